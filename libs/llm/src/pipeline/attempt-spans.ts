import { Injectable } from '@nestjs/common';
import { LogSanitizer, type LlmMessage, type LlmSpanHandle, type LlmSpanOptions } from '@app/telemetry';
import {
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProvider,
  type LlmProviderError,
} from '../ports/llm-provider.port';
import { TokenEstimator } from '../tokens/token-estimator';
import type { CallContext } from './call-context';
import { usageOf } from './call-results';
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
 * (OpenTelemetry GenAI names), its input when it starts, then the response's tags and output, or its failure's
 * kind and upstream status.
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
    };
  }

  /**
   * The attempt's input, annotated as it starts (so a failed attempt shows what it sent): the call's messages,
   * redacted and truncated once per call and shared by its attempts. Nothing for a call LLM Observability skips.
   */
  tagRequest(span: LlmSpanHandle, request: LlmGenerateRequest, ctx: CallContext): void {
    if (!ctx.llmobs) return;
    let input = ctx.spanInput;
    if (input === undefined) {
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
    }
    span.annotate({ input });
  }

  tagResponse(span: LlmSpanHandle, request: LlmGenerateRequest, result: LlmGenerateResult, ctx: CallContext): void {
    const usage = usageOf(this.tokens, request.prompt, result);
    const finishReason = result.rawFinishReason ?? result.finishReason;
    span.addTags({
      'gen_ai.response.model': result.model,
      'gen_ai.usage.input_tokens': usage.inputTokens,
      'gen_ai.usage.output_tokens': usage.outputTokens,
      // Span tags are scalars: the array as JSON text, as OpenTelemetry's GenAI conventions store it in Datadog.
      'gen_ai.response.finish_reasons': JSON.stringify([finishReason]),
      'llm.safety_block': result.safetyBlock !== undefined,
    });
    if (!ctx.llmobs) return;
    const output = this.sanitizer.text(answerText(result.text, result.toolCalls));
    ctx.spanOutput = output;
    span.annotate({
      output: [{ role: 'assistant', content: output }],
      metrics: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, totalTokens: usage.totalTokens },
      metadata: {
        temperature: request.temperature,
        max_tokens: request.maxOutputTokens,
        finish_reason: result.finishReason,
        // LLM Observability metadata is JSON: the array itself.
        finish_reasons: [finishReason],
        tokens_estimated: usage.estimated,
      },
    });
  }

  /**
   * A failed attempt: the kind of failure (`timeout`, `rate_limit`, `server`...) and the upstream's status, as APM
   * tags and, for LLM Observability (whose error is the exception's class), as the span's tags there.
   */
  tagFailure(span: LlmSpanHandle, error: LlmProviderError, ctx: CallContext): void {
    const status = error.details.status;
    span.setTag('llm.error_type', error.kind);
    span.setTag('llm.upstream_status', status);
    if (!ctx.llmobs) return;
    span.annotate({
      tags:
        status === undefined ? { error_type: error.kind } : { error_type: error.kind, upstream_status: String(status) },
    });
  }
}
