import http from 'node:http';
import https from 'node:https';
import { headOf, monotonicNow, scrubKnownSecrets } from '@app/common';
import type { AppConfig } from '@app/config';
import tracer from 'dd-trace';
import type {
  AgentProbe,
  EvaluationInput,
  LlmSpanAnnotation,
  LlmSpanHandle,
  LlmSpanOptions,
  SpanHandle,
  SpanOptions,
  SpanTags,
  SpanTagValue,
  TracerStatus,
  WorkflowSpanOptions,
} from './tracer.port';
import { canDropLlmObsEvents, dropLlmObsEvent, exporterQueueDrops, spanClock } from './dd-trace-internals';
import { sanitizeServerUrls } from './dd-trace.init';
import { NOOP_SPAN, TracerPort } from './tracer.port';

type DdSpan = ReturnType<typeof tracer.startSpan>;

class DdSpanHandle implements LlmSpanHandle {
  /** A held span (`LlmSpanOptions.held`): its end as noted when its function settled; `finish()` ends it then. */
  private endedAt?: number;
  /** A held span: `finish()` came before its function settled, so it ends when the function does. */
  private finishWanted = false;

  constructor(
    private readonly span: DdSpan,
    readonly owned: boolean,
    private llmobs = false,
    /** dd-trace's own end of a span opened with a callback (a workflow span): it finishes the span. */
    private readonly done?: () => void,
    private readonly held = false,
  ) {}

  dropLlmObs(): void {
    if (!this.llmobs) return;
    // Out of dd-trace's registry: no event is built. Else (another dd-trace) a tag our span processor drops it by.
    if (!dropLlmObsEvent(this.span)) tracer.llmobs.annotate(this.span, { tags: { [DROP_TAG]: 'true' } });
    this.llmobs = false;
  }

  /** A held span's function settled: its end is now (or it ends now, when `finish()` came first). */
  settled(): void {
    if (this.finishWanted) this.span.finish();
    else this.endedAt = spanClock(this.span) ?? Date.now();
  }

  annotate(annotation: LlmSpanAnnotation): void {
    if (!this.llmobs) return;
    let metrics: Record<string, number> | undefined;
    if (annotation.metrics) {
      metrics = {};
      for (const key in annotation.metrics) {
        const value = annotation.metrics[key];
        if (value !== undefined) metrics[key] = value;
      }
    }
    // Each part only when given: the input is annotated when an attempt starts, its output when it ends.
    tracer.llmobs.annotate(this.span, {
      inputData: annotation.input,
      outputData: annotation.output,
      metadata: annotation.metadata,
      metrics,
      tags: annotation.tags,
    });
  }

  evaluationRef(): unknown {
    return this.llmobs ? tracer.llmobs.exportSpan(this.span) : undefined;
  }

  setTag(key: string, value: SpanTagValue): void {
    if (value !== undefined) this.span.setTag(key, value);
  }

  addTags(tags: SpanTags): void {
    for (const key in tags) {
      const value = tags[key];
      if (value !== undefined) this.span.setTag(key, value);
    }
  }

  setError(error: unknown): void {
    if (error instanceof Error) {
      // A configured secret an error quotes (an upstream's answer echoing a key) never reaches the trace agent.
      this.span.addTags({
        error: 1,
        'error.type': error.name,
        'error.message': headOf(scrubKnownSecrets(error.message), 500),
        'error.stack': error.stack === undefined ? undefined : scrubKnownSecrets(error.stack),
      });
    } else {
      this.span.setTag('error', 1);
    }
  }

  finish(): void {
    if (!this.owned) return;
    if (this.held) {
      if (this.endedAt === undefined) this.finishWanted = true;
      else this.span.finish(this.endedAt);
      return;
    }
    if (this.done) this.done();
    else this.span.finish();
  }
}

/**
 * Tracing through dd-trace (initialised before the app by `initTracing`). The HTTP server span that the
 * http/fastify integrations open is re-used: the interceptor names its resource after the route
 * (`POST /qa`) instead of opening a second span per request.
 */
export class DdTracerAdapter extends TracerPort {
  private probe?: { at: number; result: Promise<AgentProbe> };

  /** `sanitizeUrl`: what the HTTP server spans' `http.url` goes through (the LogSanitizer's text). */
  constructor(
    private readonly config: Pick<AppConfig, 'tracing'>,
    sanitizeUrl?: (text: string) => string,
  ) {
    super();
    sanitizeServerUrls(sanitizeUrl);
    if (config.tracing.llmobsEnabled && tracer.llmobs.enabled && !canDropLlmObsEvents()) registerDropProcessor();
  }

  /**
   * GET {agent}/info with a short timeout, at most once per AGENT_PROBE_CACHE_MS (readiness probes may come
   * every second). dd-trace itself says nothing when its sends fail; this is what tells the operator that
   * traces and LLM Observability events are being dropped.
   */
  probeAgent(): Promise<AgentProbe> {
    // Monotonic: a wall clock stepped back would serve the cached answer for as long as it went back.
    const now = monotonicNow();
    if (this.probe && now - this.probe.at < AGENT_PROBE_CACHE_MS) return this.probe.result;
    // The payloads dropped because the agent did not take them (boundAgentQueue): said on the check's detail.
    const result = getInfo(this.config.tracing.agentUrl).then((probe) => {
      const dropped = exporterQueueDrops();
      return dropped > 0
        ? {
            ...probe,
            detail: `${probe.detail}; ${dropped} export payloads dropped since start: the agent did not take them`,
          }
        : probe;
    });
    this.probe = { at: now, result };
    return result;
  }

  status(): TracerStatus {
    return { enabled: true, agentUrl: this.config.tracing.agentUrl, llmobsEnabled: this.config.tracing.llmobsEnabled };
  }

  currentTraceId(): string | undefined {
    const context = tracer.scope().active()?.context() as { toTraceId(full128: boolean): string } | undefined;
    // The 128-bit hex form, as injected into the logs (dd.trace_id), so one id finds both.
    return context?.toTraceId(true);
  }

  requestSpan(operation: string, resource: string, tags: SpanTags): SpanHandle {
    const active = tracer.scope().active();
    const root = active ? serverSpanOf(active) : undefined;
    if (root) {
      const handle = new DdSpanHandle(root, false);
      handle.setTag('resource.name', resource);
      handle.addTags(tags);
      return handle;
    }
    const span = tracer.startSpan(operation, {
      childOf: active ?? undefined,
      tags: { 'resource.name': resource, 'span.kind': 'server' },
    });
    const handle = new DdSpanHandle(span, true);
    handle.addTags(tags);
    return handle;
  }

  nameRequest(resource: string, tags: SpanTags): void {
    const active = tracer.scope().active();
    const root = active ? serverSpanOf(active) : undefined;
    if (!root) return;
    root.setTag('resource.name', resource);
    for (const key in tags) {
      const value = tags[key];
      if (value !== undefined) root.setTag(key, value);
    }
  }

  tagRequest(tags: SpanTags): void {
    const active = tracer.scope().active();
    const span = active ? (serverSpanOf(active) ?? active) : undefined;
    if (!span) return;
    for (const key in tags) {
      const value = tags[key];
      if (value !== undefined) span.setTag(key, value);
    }
  }

  trace<T>(name: string, options: SpanOptions, fn: (span: SpanHandle) => Promise<T>): Promise<T> {
    return tracer.trace(name, { resource: options.resource, type: options.type, tags: options.tags }, async (span) => {
      const handle = new DdSpanHandle(span as DdSpan, false);
      try {
        return await fn(handle);
      } catch (error) {
        handle.setError(error);
        throw error;
      }
    });
  }

  llmSpan<T>(options: LlmSpanOptions, fn: (span: LlmSpanHandle) => Promise<T>): Promise<T> {
    return llmSpanOf(this.config.tracing.llmobsEnabled, options, fn);
  }

  /**
   * The call's `workflow` span (LLM Observability and APM), opened with dd-trace's callback form so that it ends
   * when the caller finishes it (a stream's end), not when `fn` returns. Its LLM Observability name is the
   * endpoint; its APM operation name is `options.operation`, so that APM trace metrics stay grouped under one name.
   */
  workflowSpan<T>(options: WorkflowSpanOptions, fn: (span: LlmSpanHandle) => T): T {
    if (!options.llmobs || !this.config.tracing.llmobsEnabled || !tracer.llmobs.enabled) return fn(NOOP_SPAN);
    return tracer.llmobs.trace({ kind: 'workflow', name: options.name }, (span, done) => {
      // OpenTracing's Span#setOperationName (dd-trace's typings omit it); the LLM Observability name stays `name`.
      (span as unknown as { setOperationName(name: string): void }).setOperationName(options.operation);
      span.setTag('resource.name', options.resource);
      const handle = new DdSpanHandle(span, true, true, done);
      handle.addTags(options.tags);
      return fn(handle);
    });
  }

  submitEvaluation(ref: unknown, evaluation: EvaluationInput): void {
    if (!ref || !tracer.llmobs.enabled) return;
    if (Array.isArray(ref)) {
      for (const each of ref) this.submitEvaluation(each, evaluation);
      return;
    }
    tracer.llmobs.submitEvaluation(ref as Parameters<typeof tracer.llmobs.submitEvaluation>[0], {
      label: evaluation.label,
      metricType: evaluation.metricType,
      value: evaluation.value,
      tags: evaluation.tags,
    });
  }
}

/** The LLM Observability tag of a dropped span when dd-trace's registry is out of reach (`dropLlmObs`). */
const DROP_TAG = 'llmobs_drop';
let dropProcessor = false;

/**
 * The public way to drop an LLM Observability event (dd-trace formats it first, then asks the processor), used only
 * when dd-trace's registry cannot be reached (`dd-trace-internals.ts`). Once per process.
 */
function registerDropProcessor(): void {
  if (dropProcessor) return;
  dropProcessor = true;
  tracer.llmobs.registerProcessor((span) => (span.getTag(DROP_TAG) === 'true' ? null : span));
}

/** Runs fn in an LLM span: through LLM Observability when it is on (the same span is the APM span). */
function llmSpanOf<T>(llmobs: boolean, options: LlmSpanOptions, fn: (span: LlmSpanHandle) => Promise<T>): Promise<T> {
  const run = async (span: DdSpan, isLlmObs: boolean): Promise<T> => {
    const handle = new DdSpanHandle(span, false, isLlmObs);
    handle.addTags(options.tags);
    try {
      return await fn(handle);
    } catch (error) {
      handle.setError(error);
      throw error;
    }
  };
  const resource = options.resource ?? options.name;
  if (llmobs && options.llmobs !== false && tracer.llmobs.enabled) {
    const llmOptions = {
      kind: 'llm' as const,
      name: options.name,
      modelName: options.modelName,
      modelProvider: options.modelProvider,
    };
    if (options.held === true) {
      // The callback form: dd-trace leaves the span open when `fn` settles; the caller ends it (`finish`).
      return tracer.llmobs.trace(llmOptions, (span, _done) => {
        span.setTag('resource.name', resource);
        const handle = new DdSpanHandle(span, true, true, undefined, true);
        handle.addTags(options.tags);
        const settle = (): void => handle.settled();
        return fn(handle).then(
          (value) => {
            settle();
            return value;
          },
          (error: unknown) => {
            handle.setError(error);
            settle();
            throw error;
          },
        );
      });
    }
    return tracer.llmobs.trace(llmOptions, (span) => {
      // dd-trace names the span's resource after the span unless told: APM trace metrics could not be split by model.
      span.setTag('resource.name', resource);
      return run(span, true);
    });
  }
  return tracer.trace(options.name, { resource, type: 'llm' }, (span) => run(span as DdSpan, false));
}

/** The local root span when it is the HTTP server span of the integrations, else undefined. */
function serverSpanOf(span: DdSpan): DdSpan | undefined {
  // The public API has no accessor for the local root; the trace's first started span is it.
  const context = span.context() as unknown as { _trace?: { started?: DdSpan[] } };
  const root = context._trace?.started?.[0];
  if (!root) return undefined;
  const rootContext = root.context() as unknown as { _name?: string; _tags?: Record<string, unknown> };
  return rootContext._tags?.['span.kind'] === 'server' || rootContext._name === 'web.request' ? root : undefined;
}

const AGENT_PROBE_TIMEOUT_MS = 1000;
export const AGENT_PROBE_CACHE_MS = 5000;

function getInfo(agentUrl: string): Promise<AgentProbe> {
  return new Promise((resolve) => {
    const url = new URL('/info', agentUrl);
    // A unix socket (`unix:///var/run/datadog/apm.socket`): HTTP over the socket, as dd-trace sends to it.
    const socketPath = url.protocol === 'unix:' ? new URL(agentUrl).pathname : undefined;
    const where = socketPath ? `unix://${socketPath}` : url.origin;
    const client = url.protocol === 'https:' ? https : http;
    const onResponse = (response: http.IncomingMessage): void => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve(
        status >= 200 && status < 300
          ? { reachable: true, detail: `agent at ${where} answers` }
          : { reachable: false, detail: `agent at ${where} answered ${status} to /info` },
      );
    };
    const request = socketPath
      ? http.get({ socketPath, path: '/info', timeout: AGENT_PROBE_TIMEOUT_MS }, onResponse)
      : client.get(url, { timeout: AGENT_PROBE_TIMEOUT_MS }, onResponse);
    request.on('timeout', () => request.destroy(new Error(`no answer in ${AGENT_PROBE_TIMEOUT_MS} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ reachable: false, detail: `cannot reach the agent at ${where}: ${error.code ?? error.message}` }),
    );
  });
}
