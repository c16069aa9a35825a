export type SpanTagValue = string | number | boolean | undefined;
export type SpanTags = Record<string, SpanTagValue>;

/** A span the caller may tag and must finish (unless `owned` is false: then the framework finishes it). */
export interface SpanHandle {
  readonly owned: boolean;
  setTag(key: string, value: SpanTagValue): void;
  addTags(tags: SpanTags): void;
  setError(error: unknown): void;
  finish(): void;
}

export interface TracerStatus {
  enabled: boolean;
  agentUrl?: string;
  llmobsEnabled: boolean;
}

/** Whether the trace agent answers (its `/info`), checked on demand and cached for a few seconds. */
export interface AgentProbe {
  reachable: boolean;
  detail: string;
}

/** Options of a span started with `TracerPort.trace`. */
export interface SpanOptions {
  resource?: string;
  type?: string;
  tags?: SpanTags;
}

/** An LLM call span: an APM span that is also an LLM Observability span when that is on. */
export interface LlmSpanOptions {
  name: string;
  /** The APM resource (trace metrics are split by it); the span name when absent. */
  resource?: string;
  modelName: string;
  /** The provider as LLM Observability names it for its cost estimation (`google`, `openai`...). */
  modelProvider: string;
  tags: SpanTags;
  /** Record this span in LLM Observability (when it is on); false: an APM span only. Default true. */
  llmobs?: boolean;
  /**
   * Held: the span does not end when `fn` settles; its end is noted then, and the caller ends it later with `finish()`
   * (at that noted time: the APM duration is the attempt's own), once it knows whether the span's LLM Observability
   * event is kept (`annotate`) or dropped (`dropLlmObs`). `finish()` before `fn` settles ends it when `fn` does.
   */
  held?: boolean;
}

/**
 * The span of a whole call (its attempts are its children): an LLM Observability `workflow` span. Only when
 * LLM Observability is on and `llmobs` is true; otherwise there is none (the HTTP request span is the call's APM
 * span), so a call not recorded in LLM Observability pays nothing for it.
 */
export interface WorkflowSpanOptions {
  /** The LLM Observability span name (the endpoint). */
  name: string;
  /** The APM operation name. */
  operation: string;
  resource: string;
  tags: SpanTags;
  llmobs: boolean;
}

/** A chat message of an LLM span's input or output. */
export interface LlmMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
}

/**
 * Input/output must already be redacted and truncated (LogSanitizer) before they reach a span. Each is optional:
 * the input is annotated when an attempt starts, its output when it ends (a failed attempt keeps its input). An
 * `llm` span takes messages; a `workflow` span takes text.
 */
export interface LlmSpanAnnotation {
  input?: string | readonly LlmMessage[];
  output?: string | readonly LlmMessage[];
  metadata?: Record<string, string | number | boolean | null | readonly string[]>;
  metrics?: { inputTokens?: number; outputTokens?: number; totalTokens?: number; [key: string]: number | undefined };
  tags?: Record<string, string>;
}

export interface LlmSpanHandle extends SpanHandle {
  annotate(annotation: LlmSpanAnnotation): void;
  /**
   * The span's LLM Observability event is neither built nor sent (its APM span stays, without LLM Observability's
   * tags); later `annotate` calls do nothing. Call before `finish()`.
   */
  dropLlmObs(): void;
  /** An opaque reference for `submitEvaluation`; undefined when LLM Observability is off. */
  evaluationRef(): unknown;
}

export interface EvaluationInput {
  label: string;
  metricType: 'score' | 'categorical' | 'boolean';
  value: number | string | boolean;
  tags?: Record<string, string>;
}

/**
 * Port: the service's own tracing. Interceptors and services depend on this, never on dd-trace.
 */
export abstract class TracerPort {
  abstract status(): TracerStatus;
  /** Asks the trace agent whether it is there; undefined when tracing is off. Never throws. */
  abstract probeAgent(): Promise<AgentProbe | undefined>;
  /** Trace id of the active span, decimal as Datadog shows it; undefined when tracing is off or no span is active. */
  abstract currentTraceId(): string | undefined;
  /**
   * The span of the current HTTP request: the framework's own server span when the tracer instruments the
   * server (it is tagged, not duplicated), else a new span that the caller finishes.
   */
  abstract requestSpan(operation: string, resource: string, tags: SpanTags): SpanHandle;
  /**
   * Names the framework's HTTP server span, when there is one, without opening a span otherwise: for routes whose
   * telemetry is skipped (`@SkipTelemetry`), so that they are still found by their route in APM.
   */
  abstract nameRequest(resource: string, tags: SpanTags): void;
  /** Tags the current HTTP request's span (the server span, else the active one); nothing when there is none. */
  abstract tagRequest(tags: SpanTags): void;
  /** Runs `fn` inside a new active child span, finished (with error tags) when the promise settles. */
  abstract trace<T>(name: string, options: SpanOptions, fn: (span: SpanHandle) => Promise<T>): Promise<T>;
  /** Runs `fn` inside an LLM call span (APM + LLM Observability), finished when the promise settles. */
  abstract llmSpan<T>(options: LlmSpanOptions, fn: (span: LlmSpanHandle) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` inside a call's workflow span (`WorkflowSpanOptions`), active for everything `fn` starts (the attempt
   * spans become its children). The caller finishes it (`owned`), after a stream's end if need be; with no
   * workflow span (LLM Observability off, or the call not sampled) `fn` gets a no-op span.
   */
  abstract workflowSpan<T>(options: WorkflowSpanOptions, fn: (span: LlmSpanHandle) => T): T;
  /**
   * Attaches an evaluation (quality score, flags) to an LLM span exported earlier (`evaluationRef`), or to each
   * span of an array of such references.
   */
  abstract submitEvaluation(ref: unknown, evaluation: EvaluationInput): void;
}

class NoopSpan implements LlmSpanHandle {
  readonly owned = false;
  setTag(): void {}
  addTags(): void {}
  setError(): void {}
  finish(): void {}
  annotate(): void {}
  dropLlmObs(): void {}
  evaluationRef(): undefined {
    return undefined;
  }
}

export const NOOP_SPAN: LlmSpanHandle = new NoopSpan();

/** Used when DD_TRACE_ENABLED=false: every call is free and nothing is sent. */
export class NoopTracer extends TracerPort {
  status(): TracerStatus {
    return { enabled: false, llmobsEnabled: false };
  }
  probeAgent(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  currentTraceId(): undefined {
    return undefined;
  }
  requestSpan(): SpanHandle {
    return NOOP_SPAN;
  }
  trace<T>(_name: string, _options: SpanOptions, fn: (span: SpanHandle) => Promise<T>): Promise<T> {
    return fn(NOOP_SPAN);
  }
  nameRequest(): void {}
  tagRequest(_tags: SpanTags): void {}
  llmSpan<T>(_options: LlmSpanOptions, fn: (span: LlmSpanHandle) => Promise<T>): Promise<T> {
    return fn(NOOP_SPAN);
  }
  workflowSpan<T>(_options: WorkflowSpanOptions, fn: (span: LlmSpanHandle) => T): T {
    return fn(NOOP_SPAN);
  }
  submitEvaluation(_ref: unknown, _evaluation: EvaluationInput): void {}
}
