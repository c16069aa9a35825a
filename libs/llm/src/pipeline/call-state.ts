import type { LlmMessage, LlmSpanHandle } from '@app/telemetry';
import type { AttemptCounters } from '../instrumentation/llm-call.instrumentation';
import type { LlmCallInput } from '../llm-call.types';
import type { LlmGenerateRequest, LlmGenerateResult, LlmUsage } from '../ports/llm-provider.port';
import type { RoutedCall } from '../routing/model-router';
import type { CacheHit } from './cached-answer';

/*
 * What one call carries through the pipeline, as plain data: the parts of the pipeline take it and fill it in
 * (`CallContexts` opens it). Types only, so that every part can name it without importing the others.
 */

/** One call, from its admission to its records. Nothing about a call is stored on shared objects. */
export interface CallContext {
  input: LlmCallInput;
  promptId: string;
  /** performance.now() at the start, for durations. */
  started: number;
  /** performance.now() past which no attempt starts and no backoff waits (LLM_DEADLINE_MS). */
  deadline: number;
  /** Wall clock at the start, for the ledger. */
  startedAtMs: number;
  /** The prompt sent (after drills). */
  prompt: string;
  /** The models to try, in order: the configured chain, or a chat call's model first, then the other configured ones. */
  chain: readonly string[];
  /** The call's output token limit: a chat call's `max_tokens`, else LLM_MAX_OUTPUT_TOKENS. */
  maxOutputTokens: number;
  drillsApplied: string[];
  counters: AttemptCounters;
  /**
   * This call is recorded in LLM Observability (on, and sampled by LLMOBS_SAMPLE_RATE): its workflow span and all its
   * attempts alike.
   */
  llmobs: boolean;
  /**
   * A call recorded in LLM Observability, until it ends: its attempts' spans, held open so that its keep decision
   * (LLMOBS_KEEP, `CallSpans`) drops or annotates them all alike.
   */
  llmobsRecord?: LlmObsRecord;
  /** The input messages of its LLM Observability spans, redacted and truncated once for all its attempts. */
  spanInput?: readonly LlmMessage[];
  /** The answering attempt's output, redacted and truncated, for the workflow span too. */
  spanOutput?: string;
  /** The router's decision, constraints and the request's features: a routed call only (docs/router.md). */
  routed?: RoutedCall;
  /** The response cache's key of a cacheable call (CACHE_MODE=exact, not streamed, no drill, no tools). */
  cacheKey?: string;
  /** The cached answer this call is served from: no provider call, no budget (docs/cache.md). */
  cacheHit?: CacheHit;
  /**
   * This call missed and leads its key (`ResponseCache.lookup`): identical calls wait for its answer. Called once its
   * answer is stored, or when it ends without one (`CallContexts.close`, or its admission refused).
   */
  cacheLeader?: () => void;
  /**
   * The known usage of the call's failed attempts, per model, in order: what the provider reported for an attempt it
   * answered without text, or the estimate of a stream that failed after its first token. Billed, so the call's
   * ledger row, cost metrics and budget count it (`CallResults.spentOnFailures`).
   */
  failedUsage?: { model: string; usage: LlmUsage }[];
  /** How many of `failedUsage` the call's budget reservation already holds (`CallBudget.readmit`). */
  failedUsageAdmitted?: number;
  /** Characters a stream had sent its client before it failed: the failed call's ledger row says so (`answer_chars`). */
  streamedChars?: number;
  /** The heap its input is counted for while it is in flight (`LoadShedder`), until `CallContexts.close`. */
  heldBytes?: number;
}

/**
 * An attempt of a call recorded in LLM Observability, held open until the call's end (`LlmSpanOptions.held`): what
 * its LLM Observability event would say, kept as references (nothing is redacted, truncated or annotated yet), so that
 * a call the keep decision drops (`CallSpans`) costs no annotation.
 */
export interface HeldAttempt {
  span: LlmSpanHandle;
  request: LlmGenerateRequest;
  result?: LlmGenerateResult;
  usage?: LlmUsage;
  failure?: { kind: string; status?: number };
}

/** A call's LLM Observability record until its end (`CallSpans`): its held attempts. */
export interface LlmObsRecord {
  readonly attempts: HeldAttempt[];
}
