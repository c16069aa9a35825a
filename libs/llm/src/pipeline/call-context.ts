import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { encodeRouteDecision } from '@app/ml';
import { CallAssessor } from '../assessment/call-assessor';
import type { LlmCallInput } from '../llm-call.types';
import { LlmProvider } from '../ports/llm-provider.port';
import { ModelRouter } from '../routing/model-router';
import type { CallContext } from './call-state';
import { CallBookkeeping } from './call-bookkeeping';
import { CallBudget } from './call-budget';
import { LlmDrills } from './llm-drills';
import { LoadShedder } from './load-shedder';
import { ResponseCache } from './response-cache';

/** Opens calls: admission (saturation, budget), the prompt's safety inspection, drills, and the deadline's clock. */
@Injectable()
export class CallContexts {
  /** LLM Observability is on: otherwise no call prepares anything for it. */
  private readonly llmobs: boolean;
  /** The configured chain: LLM_MODEL, then LLM_FALLBACK_MODELS. */
  private readonly chain: readonly string[];

  constructor(
    private readonly config: AppConfig,
    private readonly bookkeeping: CallBookkeeping,
    private readonly assessor: CallAssessor,
    private readonly drills: LlmDrills,
    private readonly provider: LlmProvider,
    private readonly budget: CallBudget,
    private readonly shedder: LoadShedder,
    private readonly cache: ResponseCache,
    private readonly router: ModelRouter,
  ) {
    this.llmobs = config.tracing.enabled && config.tracing.llmobsEnabled;
    this.chain = [config.llm.model, ...config.llm.fallbackModels];
  }

  /**
   * Throws NO_CAPACITY (the process is saturated: `LoadShedder`), BUDGET_EXCEEDED or PROMPT_INJECTION before
   * anything is sent (such a call is not an LLM call). With a daily budget the call's worst case is reserved last
   * (`CallBudget`): a promise only with PostgreSQL.
   *
   * `cache`: the call may be answered from the response cache (a whole answer, not a stream). With the cache on, a
   * cacheable call is looked up after the prompt's inspection (an injection-blocked prompt is never answered) and
   * before the budget: a hit (`ctx.cacheHit`) costs nothing, so it is neither checked against an enforced budget nor
   * reserved; a miss goes on to the budget as any call.
   *
   * A routed call (ModelRouter) is keyed in the cache by its constraints, not its model; it is routed on a miss
   * (a hit calls no model), before its budget reservation (priced on its routed chain).
   */
  open(raw: LlmCallInput, options: { cache?: boolean } = {}): CallContext | Promise<CallContext> {
    const held = this.shedder.admit(raw, raw.chat?.model ?? this.chain[0]!);
    // What the admission counted is given back by `close` once the call is recorded, or here if it is refused.
    const refused = (error: unknown): never => {
      this.shedder.release(held);
      throw error;
    };
    try {
      const opened = this.admitted(raw, options, held);
      return opened instanceof Promise ? opened.catch(refused) : opened;
    } catch (error) {
      return refused(error);
    }
  }

  /** The call is over (recorded, or answered from the cache): its input no longer counts against the heap. Once. */
  close(ctx: CallContext): void {
    if (ctx.heldBytes) this.shedder.release(ctx.heldBytes);
    ctx.heldBytes = 0;
    this.cache.release(ctx);
  }

  private admitted(raw: LlmCallInput, options: { cache?: boolean }, held: number): CallContext | Promise<CallContext> {
    const cacheable = options.cache === true && this.cache.enabled;
    if (!cacheable) this.bookkeeping.admit();
    const input = this.assessor.inspect(raw, this.provider.name);
    const { prompt, applied } = this.drills.preparePrompt(input.prompt, input.drills);
    const started = performance.now();
    const ctx: CallContext = {
      input,
      promptId: randomUUID(),
      started,
      deadline: started + this.config.llm.deadlineMs,
      startedAtMs: Date.now(),
      prompt,
      chain: this.chainOf(input),
      maxOutputTokens: input.chat?.maxOutputTokens ?? this.config.llm.maxOutputTokens,
      drillsApplied: applied,
      counters: { rateLimits: new Map(), timeouts: new Map() },
      llmobs: this.llmobs && sampled(this.config.tracing.llmobsSampleRate),
      heldBytes: held,
    };
    if (!cacheable) return this.reserve(this.route(ctx));
    ctx.cacheKey = this.cache.keyOf(ctx, this.router.active ? this.router.constraintsOf(input) : undefined);
    if (ctx.cacheKey === undefined) {
      this.bookkeeping.admit();
      return this.reserve(this.route(ctx));
    }
    return this.cache.lookup(ctx, ctx.cacheKey).then((hit) => {
      if (hit) {
        ctx.cacheHit = hit;
        return ctx;
      }
      // A miss that is refused here (budget, shutdown) answers nothing: the calls waiting for it look no longer.
      const refused = (error: unknown): never => {
        this.cache.release(ctx);
        throw error;
      };
      try {
        this.bookkeeping.admit();
        const reserved = this.reserve(this.route(ctx));
        return reserved instanceof Promise ? reserved.catch(refused) : reserved;
      } catch (error) {
        return refused(error);
      }
    });
  }

  /** Routes the call (when the router is at work): its chosen model first, then the configured chain. */
  private route(ctx: CallContext): CallContext {
    const routed = this.router.route(ctx.input);
    if (routed) {
      const selected = routed.decision.selectedModel;
      ctx.routed = routed;
      ctx.input = { ...ctx.input, routeRecord: encodeRouteDecision(routed.features, routed.decision) };
      ctx.chain = [selected, ...this.chain.filter((model) => model !== selected)];
    }
    return ctx;
  }

  private reserve(ctx: CallContext): CallContext | Promise<CallContext> {
    const reserved = this.budget.reserve(ctx);
    return reserved ? reserved.then(() => ctx) : ctx;
  }

  /** A chat call's model goes first, then the rest of the configured chain (each model once). */
  private chainOf(input: LlmCallInput): readonly string[] {
    const primary = input.chat?.model;
    if (primary === undefined || primary === this.chain[0]) return this.chain;
    return [primary, ...this.chain.filter((model) => model !== primary)];
  }
}

/**
 * Less than this left of the deadline counts as none: an attempt could not be answered in it, and a timer cut to the
 * deadline may fire a fraction of a millisecond before `performance.now()` reaches it (timers run on the event loop's
 * cached clock), which let a fallback attempt start with nothing left under load.
 */
export const MIN_ATTEMPT_MS = 5;

/** The call's deadline has passed (or too little is left of it for an attempt): no attempt starts. */
export function deadlinePassed(ctx: CallContext): boolean {
  return performance.now() + MIN_ATTEMPT_MS > ctx.deadline;
}

/** A wait of `ms` would end at or past the deadline: no backoff waits past it. */
export function waitPassesDeadline(ctx: CallContext, ms: number): boolean {
  return performance.now() + ms >= ctx.deadline;
}

/** What is left of the call's deadline, in whole milliseconds (at least 1). */
export function deadlineLeftMs(ctx: CallContext): number {
  return Math.max(1, Math.ceil(ctx.deadline - performance.now()));
}

/** True with probability `rate` (0: never, 1: always). */
function sampled(rate: number): boolean {
  return rate >= 1 || (rate > 0 && Math.random() < rate);
}
