import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { ReadinessRegistry } from '@app/telemetry';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import { LlmProvider } from '../ports/llm-provider.port';
import { CircuitBreaker, type CircuitState } from '../reliability/circuit-breaker';

const GAUGE_INTERVAL_MS = 10_000;

/**
 * The model chain (LLM_MODEL, then LLM_FALLBACK_MODELS) and a circuit breaker per provider+model: the
 * `llm.circuit.state` gauge on every change and every 10 s, and the `llmProvider` readiness check
 * (degraded when every circuit is open).
 */
@Injectable()
export class CircuitBreakers implements OnModuleInit, OnModuleDestroy {
  readonly chain: readonly string[];
  private readonly breakers = new Map<string, CircuitBreaker>();
  private gaugeTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly provider: LlmProvider,
    private readonly telemetry: LlmCallInstrumentation,
    private readonly readiness: ReadinessRegistry,
  ) {
    this.chain = [config.llm.model, ...config.llm.fallbackModels];
    for (const model of this.chain) this.get(model);
  }

  onModuleInit(): void {
    this.readiness.register('llmProvider', () => {
      const open = [...this.breakers.values()].filter((b) => b.current() === 'open').map((b) => b.key);
      const label = `${this.provider.name}${this.provider.simulated ? ' (simulated: no real model is called)' : ''}; chain ${this.chain.join(' → ')}`;
      return open.length === this.chain.length
        ? { status: 'degraded', detail: `${label}; every circuit is open` }
        : { status: 'ok', detail: open.length > 0 ? `${label}; open circuits: ${open.join(', ')}` : label };
    });
    this.gaugeTimer = setInterval(() => this.emitGauges(), GAUGE_INTERVAL_MS);
    this.gaugeTimer.unref();
    this.emitGauges();
  }

  onModuleDestroy(): void {
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
  }

  /** The breaker of a model of the chain. */
  get(model: string): CircuitBreaker {
    let breaker = this.breakers.get(model);
    if (!breaker) {
      breaker = new CircuitBreaker(`${this.provider.name}:${model}`, this.config.llm.breaker, (_key, state) =>
        this.telemetry.circuit(this.provider.name, model, state),
      );
      this.breakers.set(model, breaker);
    }
    return breaker;
  }

  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.breakers].map(([model, b]) => [model, b.current()]));
  }

  private emitGauges(): void {
    for (const [model, breaker] of this.breakers) this.telemetry.circuit(this.provider.name, model, breaker.current());
  }
}
