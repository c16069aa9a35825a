import { Injectable } from '@nestjs/common';
import { LogSanitizer, type LlmSpanHandle, type LlmSpanOptions } from '@app/telemetry';
import { type LlmGenerateRequest, type LlmGenerateResult, LlmProvider } from '../ports/llm-provider.port';
import { TokenEstimator } from '../tokens/token-estimator';
import type { CallContext } from './call-context';
import { usageOf } from './call-results';

/** OpenTelemetry GenAI `gen_ai.provider.name` values. */
const OTEL_PROVIDER: Record<string, string> = {
  vertex: 'gcp.vertex_ai',
  gemini: 'gcp.gemini',
  openai: 'openai',
  simulated: 'simulated',
};

/**
 * The `llm.generate` span of an attempt (also an LLM Observability span): its options and request tags
 * (OpenTelemetry GenAI names), then the response's tags and the redacted input/output annotation.
 */
@Injectable()
export class AttemptSpans {
  constructor(
    private readonly provider: LlmProvider,
    private readonly sanitizer: LogSanitizer,
    private readonly tokens: TokenEstimator,
  ) {}

  options(request: LlmGenerateRequest, ctx: CallContext, attempt: number): LlmSpanOptions {
    const provider = this.provider;
    return {
      name: 'llm.generate',
      modelName: request.model,
      modelProvider: provider.name,
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

  tagResponse(span: LlmSpanHandle, request: LlmGenerateRequest, result: LlmGenerateResult): void {
    const usage = usageOf(this.tokens, request.prompt, result);
    span.addTags({
      'gen_ai.response.model': result.model,
      'gen_ai.usage.input_tokens': usage.inputTokens,
      'gen_ai.usage.output_tokens': usage.outputTokens,
      'gen_ai.response.finish_reasons': JSON.stringify([result.rawFinishReason ?? result.finishReason]),
      'llm.safety_block': result.safetyBlock !== undefined,
    });
    span.annotate({
      input: this.sanitizer.text(request.prompt),
      output: this.sanitizer.text(result.text),
      metrics: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, totalTokens: usage.totalTokens },
      metadata: {
        temperature: request.temperature,
        max_tokens: request.maxOutputTokens,
        finish_reason: result.finishReason,
        tokens_estimated: usage.estimated,
      },
    });
  }
}
