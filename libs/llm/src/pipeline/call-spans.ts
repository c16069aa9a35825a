import { Injectable } from '@nestjs/common';
import { LogSanitizer, type LlmSpanHandle, TracerPort, type WorkflowSpanOptions } from '@app/telemetry';
import type { LlmCallResult } from '../llm-call.types';
import { LlmCallAbandonedError, LlmCallFailedError } from '../llm.errors';
import type { CallContext } from './call-context';
import type { Answered } from './call-results';

/** The APM operation name of a call's workflow span (its LLM Observability name is the endpoint). */
const CALL_OPERATION = 'llm.call';

/**
 * The call's LLM Observability `workflow` span: the root of its trace there, with its attempts (`llm.generate`
 * spans) under it, so that a call's latency, retries, fallback and failure show as one trace. Its input is the
 * prompt (redacted and truncated, shared with the attempts), its output the answer or its failure. The call's
 * evaluations go on it as well as on the answering attempt. Only for a call recorded in LLM Observability
 * (`ctx.llmobs`); otherwise the tracer hands out a no-op span and nothing here costs anything.
 */
@Injectable()
export class CallSpans {
  constructor(
    private readonly tracer: TracerPort,
    private readonly sanitizer: LogSanitizer,
  ) {}

  /** Runs `fn` inside the call's workflow span; `fn` ends it with `answered`, `failed` or `abandoned`. */
  run<T>(ctx: CallContext, fn: (span: LlmSpanHandle) => T): T {
    if (!ctx.llmobs) return this.tracer.workflowSpan(DISABLED, fn);
    const endpoint = ctx.input.endpoint;
    return this.tracer.workflowSpan(
      {
        name: endpoint,
        operation: CALL_OPERATION,
        resource: endpoint,
        tags: { 'llm.endpoint': endpoint, 'llm.prompt_id': ctx.promptId },
        llmobs: true,
      },
      (span) => {
        const chat = ctx.input.chat;
        span.annotate({
          input: this.sanitizer.text(ctx.prompt),
          // A chat call's end user and metadata (`user`, `metadata`), redacted and truncated like the prompt.
          ...(chat?.user !== undefined || chat?.metadata !== undefined
            ? { metadata: this.callerMetadata(chat.user, chat.metadata) }
            : {}),
        });
        return fn(span);
      },
    );
  }

  private callerMetadata(
    user: string | undefined,
    metadata: Record<string, string> | undefined,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    if (user !== undefined) out.user = this.sanitizer.text(user);
    for (const [key, value] of Object.entries(metadata ?? {})) out[`metadata.${key}`] = this.sanitizer.text(value);
    return out;
  }

  /** The evaluation reference of the answered call: its workflow span and its answering attempt's span. */
  evaluationRef(span: LlmSpanHandle, answered: Answered): unknown {
    const workflow = span.evaluationRef();
    if (workflow === undefined) return answered.evaluationRef;
    return answered.evaluationRef === undefined ? workflow : [workflow, answered.evaluationRef];
  }

  answered(span: LlmSpanHandle, ctx: CallContext, result: LlmCallResult): void {
    if (!ctx.llmobs) return;
    span.addTags({
      'llm.model': result.model,
      'llm.attempts': result.attempts,
      'llm.retry_count': result.retryCount,
      'llm.fallback_used': result.fallbackUsed,
      'llm.safety_block': result.safetyBlock !== undefined,
    });
    span.annotate({
      output: ctx.spanOutput ?? this.sanitizer.text(result.answer),
      metadata: { models_tried: result.modelsTried, finish_reason: result.finishReason },
    });
    span.finish();
  }

  /** A failed (or abandoned) call: the error on the workflow span, with the last attempt's kind and status. */
  failed(span: LlmSpanHandle, ctx: CallContext, error: unknown): void {
    if (!ctx.llmobs) return;
    if (error instanceof LlmCallFailedError) {
      const context = error.context;
      span.addTags({
        'llm.model': context.model,
        'llm.attempts': context.attempts,
        'llm.error_type': context.lastErrorKind ?? undefined,
        'llm.upstream_status': context.lastUpstreamStatus ?? undefined,
        'error.code': error.code,
      });
      span.setError(error);
    } else if (error instanceof LlmCallAbandonedError) {
      // The client went away: not the provider's failure, so not a span error.
      span.setTag('llm.client_abort', true);
    } else {
      span.setError(error);
    }
    span.finish();
  }
}

const DISABLED: WorkflowSpanOptions = { name: '', operation: CALL_OPERATION, resource: '', tags: {}, llmobs: false };
