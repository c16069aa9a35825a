import { Injectable } from '@nestjs/common';
import {
  LogSanitizer,
  type LlmMessage,
  type LlmSpanAnnotation,
  type LlmSpanHandle,
  type LlmSpanOptions,
} from '@app/telemetry';
import {
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProvider,
  type LlmProviderError,
} from '../ports/llm-provider.port';
import { TokenEstimator } from '../tokens/token-estimator';
import type { CallContext, HeldAttempt } from './call-state';
import { usageOf } from './spend';
import { answerText, messageText } from './chat-text';

/** OpenTelemetry GenAI `gen_ai.provider.name` values. */
const OTEL_PROVIDER: Record<string, string> = {
  vertex: 'gcp.vertex_ai',
  gemini: 'gcp.gemini',
  openai: 'openai',
  simulated: 'simulated',
};

/**
 * LLM Observability `model_provider` values: the names Datadog's cost estimation matches (with the model name), as
 * dd-trace's own integrations send them (`google` for @google/genai and Vertex AI, `openai` for OpenAI). The
 * simulated provider keeps its own name: Datadog must not estimate a cost for answers nobody paid for.
 */
export const LLMOBS_MODEL_PROVIDER: Record<string, string> = {
  vertex: 'google',
  gemini: 'google',
  openai: 'openai',
  simulated: 'simulated',
};

/**
 * The `llm.generate` span of an attempt (also an LLM Observability `llm` span): its options and request tags
 * (OpenTelemetry GenAI names), then the response's tags, or its failure's kind and upstream status. A call recorded
 * in LLM Observability holds its attempts' spans open (their APM end noted) until the call ends: then `annotate`
 * gives each kept attempt its input, output, token metrics and metadata, or the call's keep decision drops them
 * (`CallSpans.end`).
 */
@Injectable()
export class AttemptSpans {
  /** `provider.model` per model: the APM resource, so that trace metrics split by model. */
  private readonly resources = new Map<string, string>();

  constructor(
    private readonly provider: LlmProvider,
    private readonly sanitizer: LogSanitizer,
    private readonly tokens: TokenEstimator,
  ) {}

  options(request: LlmGenerateRequest, ctx: CallContext, attempt: number): LlmSpanOptions {
    const provider = this.provider;
    let resource = this.resources.get(request.model);
    if (resource === undefined) {
      resource = `${provider.name}.${request.model}`;
      this.resources.set(request.model, resource);
    }
    return {
      name: 'llm.generate',
      resource,
      modelName: request.model,
      modelProvider: LLMOBS_MODEL_PROVIDER[provider.name] ?? provider.name,
      tags: {
        // An outbound call (dd-trace's HTTP client spans are off): Datadog draws the provider as the service this one
        // depends on (an inferred service) from these two.
        'span.kind': 'client',
        'peer.service': provider.name,
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': OTEL_PROVIDER[provider.name] ?? provider.name,
        'gen_ai.request.model': request.model,
        'gen_ai.request.temperature': request.temperature,
        'gen_ai.request.max_tokens': request.maxOutputTokens,
        'llm.endpoint': ctx.input.endpoint,
        'llm.prompt_id': ctx.promptId,
        'llm.attempt': attempt,
        'llm.simulated': provider.simulated,
      },
      llmobs: ctx.llmobs,
      // Held until the call's keep decision, only when the call has a record to end them with.
      held: ctx.llmobs && ctx.llmobsRecord !== undefined,
    };
  }

  /** The attempt has started: a call recorded in LLM Observability holds it until its end (`annotate`). */
  tagRequest(span: LlmSpanHandle, request: LlmGenerateRequest, ctx: CallContext): void {
    if (!ctx.llmobs) return;
    ctx.llmobsRecord?.attempts.push({ span, request });
  }

  tagResponse(span: LlmSpanHandle, request: LlmGenerateRequest, result: LlmGenerateResult, ctx: CallContext): void {
    const usage = usageOf(this.tokens, request.prompt, result);
    // The model and the finish reason as the upstream named them: text from outside, like its answer.
    const finishReason = this.sanitizer.text(result.rawFinishReason ?? result.finishReason);
    span.addTags({
      'gen_ai.response.model': this.sanitizer.text(result.model),
      'gen_ai.usage.input_tokens': usage.inputTokens,
      // Billed output, reasoning included, as OpenAI's completion_tokens and OpenTelemetry's GenAI attribute count it.
      'gen_ai.usage.output_tokens': usage.outputTokens + usage.reasoningTokens,
      // Span tags are scalars: the array as JSON text, as OpenTelemetry's GenAI conventions store it in Datadog.
      'gen_ai.response.finish_reasons': JSON.stringify([finishReason]),
      'llm.safety_block': result.safetyBlock !== undefined,
    });
    if (!ctx.llmobs) return;
    const held = heldOf(ctx, span);
    if (held) {
      held.result = result;
      held.usage = usage;
    }
  }

  /**
   * A failed attempt: the kind of failure (`timeout`, `rate_limit`, `server`...) and the upstream's status, as APM
   * tags and, for LLM Observability (whose error is the exception's class), as the span's tags there.
   */
  tagFailure(span: LlmSpanHandle, error: LlmProviderError, ctx: CallContext): void {
    const status = error.details.status;
    span.setTag('llm.error_type', error.kind);
    span.setTag('llm.upstream_status', status);
    if (error.details.providerCode !== undefined) span.setTag('llm.provider_code', error.details.providerCode);
    if (!ctx.llmobs) return;
    const held = heldOf(ctx, span);
    if (held) held.failure = status === undefined ? { kind: error.kind } : { kind: error.kind, status };
  }

  /**
   * A kept attempt's LLM Observability annotation, made at the call's end before its span ends: its input (the call's
   * messages, redacted and truncated once per call and shared by its attempts: a failed attempt shows what it sent),
   * its output, token metrics and metadata when it answered, its failure's kind and upstream status when it failed.
   */
  annotate(held: HeldAttempt, ctx: CallContext): void {
    const { span, request, result, usage, failure } = held;
    const annotation: LlmSpanAnnotation = { input: this.inputOf(request, ctx) };
    if (result !== undefined && usage !== undefined) {
      const output = this.sanitizer.text(answerText(result.text, result.toolCalls));
      ctx.spanOutput = output;
      annotation.output = [{ role: 'assistant', content: output }];
      // Datadog estimates the span's cost from these, as dd-trace's OpenAI integration reports them: output tokens
      // with the reasoning ones (billed at the output rate), which it also names, and the input read from the cache
      // (billed at the cached rate). Before, output left reasoning out: a reasoning model's answer of 300 text and 200
      // reasoning tokens was estimated on 300, and cached input at the full rate.
      annotation.metrics = {
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens + usage.reasoningTokens,
        totalTokens: usage.totalTokens,
        ...(usage.reasoningTokens > 0 ? { reasoningOutputTokens: usage.reasoningTokens } : {}),
        ...(usage.cachedTokens > 0 ? { cacheReadTokens: usage.cachedTokens } : {}),
      };
      annotation.metadata = {
        temperature: request.temperature,
        max_tokens: request.maxOutputTokens,
        finish_reason: result.finishReason,
        // LLM Observability metadata is JSON: the array itself.
        finish_reasons: [this.sanitizer.text(result.rawFinishReason ?? result.finishReason)],
        tokens_estimated: usage.estimated,
      };
    }
    if (failure !== undefined) {
      annotation.tags =
        failure.status === undefined
          ? { error_type: failure.kind }
          : { error_type: failure.kind, upstream_status: String(failure.status) };
    }
    span.annotate(annotation);
  }

  /** The call's input messages, redacted and truncated once per call. */
  private inputOf(request: LlmGenerateRequest, ctx: CallContext): readonly LlmMessage[] {
    if (ctx.spanInput !== undefined) return ctx.spanInput;
    let input: readonly LlmMessage[];
    if (request.messages !== undefined) {
      input = request.messages.map((m) => ({ role: m.role, content: this.sanitizer.text(messageText(m)) }));
    } else {
      const user: LlmMessage = { role: 'user', content: this.sanitizer.text(request.prompt) };
      input =
        request.systemInstruction !== undefined
          ? [{ role: 'system', content: this.sanitizer.text(request.systemInstruction) }, user]
          : [user];
    }
    ctx.spanInput = input;
    return input;
  }
}

function heldOf(ctx: CallContext, span: LlmSpanHandle): HeldAttempt | undefined {
  return ctx.llmobsRecord?.attempts.find((held) => held.span === span);
}
