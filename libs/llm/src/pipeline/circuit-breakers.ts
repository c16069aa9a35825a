import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { ReadinessRegistry } from '@app/telemetry';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import { LlmProvider, type LlmProviderError } from '../ports/llm-provider.port';
import { CircuitBreaker, type CircuitState } from '../reliability/circuit-breaker';
import { RateLimitGates } from './rate-limit-gates';

const GAUGE_INTERVAL_MS = 10_000;

/** Where to look when the provider refuses our credentials. */
const CREDENTIALS: Record<string, string> = {
  openai: 'OPENAI_API_KEY',
  gemini: 'GEMINI_API_KEY',
  vertex: 'the Application Default Credentials and GOOGLE_CLOUD_PROJECT (the Vertex AI API enabled, the role granted)',
};

/** The provider's last refusal of our credentials or account, until a call succeeds again. */
interface AccountFailure {
  kind: 'auth' | 'quota_exhausted';
  status: number | undefined;
  message: string;
  at: string;
}

/**
 * The model chain (LLM_MODEL, then LLM_FALLBACK_MODELS) and a circuit breaker per provider+model: the
 * `llm.circuit.state` gauge on every change and every 10 s, and the `llmProvider` readiness check
 * (degraded when no model of the chain can take a call, each with its circuit open or held by the provider's rate
 * limit after a 429, or when the provider's last answer refused our credentials or our account's quota: `auth`,
 * `quota_exhausted`, until a call succeeds again; an `error` log line when that starts).
 */
@Injectable()
export class CircuitBreakers implements OnModuleInit, OnModuleDestroy {
  readonly chain: readonly string[];
  private readonly breakers = new Map<string, CircuitBreaker>();
  private gaugeTimer?: NodeJS.Timeout;
  private accountFailure: AccountFailure | undefined;
  private readonly logger = new Logger('LlmProvider');

  constructor(
    private readonly config: AppConfig,
    private readonly provider: LlmProvider,
    private readonly telemetry: LlmCallInstrumentation,
    private readonly readiness: ReadinessRegistry,
    private readonly gates: RateLimitGates,
  ) {
    this.chain = [config.llm.model, ...config.llm.fallbackModels];
    for (const model of this.chain) this.get(model);
  }

  onModuleInit(): void {
    this.readiness.register('llmProvider', () => {
      const open = [...this.breakers.values()].filter((b) => b.current() === 'open').map((b) => b.key);
      const label = `${this.provider.name}${this.provider.simulated ? ' (simulated: no real model is called)' : ''}; chain ${this.chain.join(' → ')}`;
      const refused = this.accountFailure;
      if (refused !== undefined) return { status: 'degraded', detail: `${label}; ${this.describe(refused)}` };
      // Only the chain's circuits decide: a routed call or a chat call naming a model has a breaker of its own, whose
      // open circuit, counted here, once made readiness say "every circuit is open" while the chain answered.
      const chainOpen = this.chain.filter((model) => this.get(model).current() === 'open');
      if (chainOpen.length === this.chain.length) {
        return { status: 'degraded', detail: `${label}; every circuit of the chain is open` };
      }
      // A model held after a 429 refuses every call until its hold ends (503 NO_CAPACITY, provider_rate_limit), as
      // an open circuit does: with every model of the chain one or the other, no call is answered.
      const held = this.gates
        .heldModels(this.chain)
        .filter(({ model }) => !chainOpen.includes(model))
        .map(({ model, retryAfterMs }) => `${model} (${Math.ceil(retryAfterMs / 1000)} s left)`);
      const parts = [
        ...(open.length > 0 ? [`open circuits: ${open.join(', ')}`] : []),
        ...(held.length > 0 ? [`held by the provider's rate limit (429): ${held.join(', ')}`] : []),
      ];
      if (chainOpen.length + held.length === this.chain.length) {
        return { status: 'degraded', detail: `${label}; no model can take a call: ${parts.join('; ')}` };
      }
      return { status: 'ok', detail: [label, ...parts].join('; ') };
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

  /**
   * A failed attempt: one that refused our credentials (`auth`) or our account's quota (`quota_exhausted`) marks the
   * provider as misconfigured until a call succeeds (logged once, at `error`, when it starts or changes kind).
   */
  onFailure(error: LlmProviderError): void {
    if (error.kind !== 'auth' && error.kind !== 'quota_exhausted') return;
    const previous = this.accountFailure;
    this.accountFailure = {
      kind: error.kind,
      status: error.details.status,
      message: error.message,
      at: new Date().toISOString(),
    };
    if (previous?.kind !== error.kind) {
      this.logger.error(
        { provider: this.provider.name, error_type: error.kind, upstream_status: error.details.status ?? null },
        `${this.describe(this.accountFailure)}: every call fails until this is fixed`,
      );
    }
  }

  /** A call answered: the provider takes our credentials. */
  onSuccess(): void {
    if (this.accountFailure === undefined) return;
    this.logger.log(`${this.provider.name} answers again: our credentials and quota are accepted`);
    this.accountFailure = undefined;
  }

  private describe(failure: AccountFailure): string {
    const status = failure.status !== undefined ? `HTTP ${failure.status}, ` : '';
    const what =
      failure.kind === 'auth'
        ? `${this.provider.name} refuses our credentials (${status}${failure.at}); check ${CREDENTIALS[this.provider.name] ?? 'the provider credentials'}`
        : `${this.provider.name} says our account's quota is exhausted (${status}${failure.at}); check the provider account's plan and billing`;
    return `${what}: ${failure.message}`;
  }

  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.breakers].map(([model, b]) => [model, b.current()]));
  }

  private emitGauges(): void {
    for (const [model, breaker] of this.breakers) this.telemetry.circuit(this.provider.name, model, breaker.current());
  }
}
