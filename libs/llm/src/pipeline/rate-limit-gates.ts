import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import { LlmProvider } from '../ports/llm-provider.port';
import { RateLimitGate } from '../reliability/rate-limit-gate';

const GAUGE_INTERVAL_MS = 10_000;

/**
 * A rate-limit gate per provider+model (`RateLimitGate`: the hold after a 429, half-open probes, the adaptive
 * limit), for the models of the chain and those a chat call names. `llm.rate_limit.state`, `llm.concurrency.limit`
 * and `llm.concurrency.in_flight` on every hold and every 10 s; `llm.rate_limit.hold.count` per hold.
 */
@Injectable()
export class RateLimitGates implements OnModuleInit, OnModuleDestroy {
  private readonly gates = new Map<string, RateLimitGate>();
  private gaugeTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly provider: LlmProvider,
    private readonly telemetry: LlmCallInstrumentation,
  ) {
    for (const model of [config.llm.model, ...config.llm.fallbackModels]) this.get(model);
  }

  onModuleInit(): void {
    this.gaugeTimer = setInterval(() => this.emitGauges(), GAUGE_INTERVAL_MS);
    this.gaugeTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
  }

  /** The gate of a model (created on first use: a chat call's model is a configured model or alias, a bounded set). */
  get(model: string): RateLimitGate {
    let gate = this.gates.get(model);
    if (!gate) {
      const { rateLimit, maxConcurrency } = this.config.llm;
      gate = new RateLimitGate(
        `${this.provider.name}:${model}`,
        { holdMs: rateLimit.holdMs, maxHoldMs: rateLimit.maxHoldMs, maxLimit: maxConcurrency },
        () => this.held(model),
      );
      this.gates.set(model, gate);
    }
    return gate;
  }

  /**
   * The models of `models` whose gate holds them after a 429 (refusing every call until the hold ends), with the
   * milliseconds left of the hold. A gate past its hold (probing) is not held: its next call goes to the provider.
   */
  heldModels(models: readonly string[]): { model: string; retryAfterMs: number }[] {
    const held: { model: string; retryAfterMs: number }[] = [];
    for (const model of models) {
      const gate = this.gates.get(model);
      if (gate?.current() === 'held') held.push({ model, retryAfterMs: gate.retryAfterMs() });
    }
    return held;
  }

  private held(model: string): void {
    this.telemetry.rateLimitHold(this.provider.name, model);
    this.emit(model, this.gates.get(model));
  }

  private emitGauges(): void {
    for (const [model, gate] of this.gates) this.emit(model, gate);
  }

  private emit(model: string, gate: RateLimitGate | undefined): void {
    if (gate) this.telemetry.rateLimitGate(this.provider.name, model, gate.current(), gate.limit, gate.inFlight);
  }
}
