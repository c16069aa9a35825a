import { Injectable } from '@nestjs/common';
import { DomainError, type Problem } from '@app/common';
import { AppConfig, type RouteConstraints } from '@app/config';
import type {
  DrillQueryDto,
  QaRequestDto,
  ReasonRequestDto,
  RoutingConstraintsDto,
  StressRequestDto,
} from './dto/llm-request.dto';
import type { LlmMetadataDto, LlmResponseDto, RoutingMetadataDto } from './dto/llm-response.dto';
import type { DrillFlags, LlmCallInput, LlmCallResult, LlmEndpoint } from './llm-call.types';
import { LLM_ERRORS } from './llm.errors';
import { LlmService } from './llm.service';
import { PriceTable } from './pricing/price-table';
import { worstCaseCostUsd } from './pricing/worst-case-cost';
import { routerActive } from './routing/model-router';
import { TokenEstimator } from './tokens/token-estimator';
import { answerText } from './pipeline/chat-text';
import { wordCount } from './tokens/word-count';

export function drillsOf(query: DrillQueryDto): DrillFlags {
  return {
    latency: query.simulate_latency === true,
    retry: query.simulate_retry === true,
    badPrompt: query.simulate_bad_prompt === true,
    longContext: query.simulate_long_context === true,
  };
}

/** A request's routing constraints (body `routing`), as the router takes them. */
function routingOf(dto: RoutingConstraintsDto | undefined): Pick<LlmCallInput, 'routing'> {
  if (!dto) return {};
  const routing: RouteConstraints = {
    ...(dto.min_quality !== undefined ? { minQuality: dto.min_quality } : {}),
    ...(dto.max_latency_ms !== undefined ? { maxLatencyMs: dto.max_latency_ms } : {}),
    ...(dto.max_cost_usd !== undefined ? { maxCostUsd: dto.max_cost_usd } : {}),
  };
  return { routing };
}

/** `metadata.routing` of a routed call. */
export function routingMetadata(routing: NonNullable<LlmCallResult['routing']>): RoutingMetadataDto {
  const c = routing.constraints;
  return {
    mode: routing.mode,
    selected_model: routing.selectedModel,
    candidates_considered: routing.candidatesConsidered,
    predicted_quality: routing.predictedQuality,
    predicted_latency_ms: routing.predictedLatencyMs,
    predicted_cost_usd: routing.predictedCostUsd,
    explored: routing.explored,
    reason: routing.reason,
    constraints: {
      ...(c.minQuality !== undefined ? { min_quality: c.minQuality } : {}),
      ...(c.maxLatencyMs !== undefined ? { max_latency_ms: c.maxLatencyMs } : {}),
      ...(c.maxCostUsd !== undefined ? { max_cost_usd: c.maxCostUsd } : {}),
    },
  };
}

/** Builds the origin-compatible QA prompt. */
export function qaPrompt(question: string, document?: string | null): string {
  return `Q: ${question}\nContext: ${document && document.trim() ? document : 'N/A'}`;
}

/** The SSE `error` event of a failure (its problem object), after the stream's first event. */
export function errorEvent(problem: Problem): string {
  return `event: error\ndata: ${JSON.stringify(problem)}\n\n`;
}

/** What a streamed answer needs from the HTTP layer. */
export interface StreamHooks {
  /** The problem body of a failure after the first event (the `error` event's data). */
  problem(error: unknown): Problem;
  /** The call answered; its `done` event is sent next. */
  answered?(result: LlmCallResult): void;
}

/**
 * The /qa, /reason and /stress use cases: prompt building, the /stress guards, the call, and the
 * response (JSON or Server-Sent Events).
 */
@Injectable()
export class LlmEndpointsService {
  constructor(
    private readonly config: AppConfig,
    private readonly llm: LlmService,
    private readonly prices: PriceTable,
    private readonly tokens: TokenEstimator,
  ) {}

  qaInput(body: QaRequestDto, query: DrillQueryDto, signal?: AbortSignal): LlmCallInput {
    return {
      ...routingOf(body.routing),
      endpoint: 'qa',
      userText: body.question,
      prompt: qaPrompt(body.question, body.document),
      document: body.document ?? undefined,
      drills: drillsOf(query),
      signal,
    };
  }

  reasonInput(body: ReasonRequestDto, query: DrillQueryDto, signal?: AbortSignal): LlmCallInput {
    return {
      ...routingOf(body.routing),
      endpoint: 'reason',
      userText: body.prompt,
      prompt: body.prompt,
      drills: drillsOf(query),
      signal,
    };
  }

  /** /stress: the prompt repeated N times (each copy with a leading space), long context always on, within the caps. */
  stressInput(body: StressRequestDto, query: DrillQueryDto, signal?: AbortSignal): LlmCallInput {
    const repetitions = body.repetitions ?? 10;
    const prompt = Array.from({ length: repetitions }, () => ` ${body.prompt}`).join('');
    const { maxInputChars, maxCostUsd } = this.config.llm.stress;
    const drills = { ...drillsOf(query), longContext: true };
    const sent = this.llm.preparePrompt(prompt, drills).prompt;
    if (sent.length > maxInputChars) {
      throw new DomainError(
        LLM_ERRORS.INPUT_TOO_LARGE,
        `The stress prompt would be ${sent.length} characters; the limit is ${maxInputChars} (STRESS_MAX_INPUT_CHARS).`,
        {
          errors: [{ field: 'repetitions', reason: `prompt × repetitions exceeds ${maxInputChars} characters` }],
          promptChars: sent.length,
          limitChars: maxInputChars,
        },
      );
    }
    // Any model the call may reach can answer it: the router's choice, a fallback. Before, only LLM_MODEL was priced:
    // with a 16 times dearer fallback, a stress call the $0.05 cap let through cost $0.082 when the fallback answered.
    const { model, fallbackModels } = this.config.llm;
    const routed = routerActive(this.config.router) ? this.config.router.candidates : [];
    const reachable = [...new Set([model, ...fallbackModels, ...routed])];
    const priced = reachable.some((m) => this.prices.resolve(m) !== undefined);
    const worst = priced
      ? worstCaseCostUsd(this.prices, reachable, this.tokens.count(sent), this.config.llm.maxOutputTokens)
      : null;
    if (worst !== null && worst > maxCostUsd) {
      throw new DomainError(
        LLM_ERRORS.COST_CAP_EXCEEDED,
        `This stress call could cost up to $${worst.toFixed(6)}; the cap is $${maxCostUsd} per request (STRESS_MAX_COST_USD).`,
        {
          errors: [{ field: 'repetitions', reason: 'the estimated worst-case cost exceeds the per-request cap' }],
          estimatedMaxCostUsd: worst,
          capUsd: maxCostUsd,
        },
      );
    }
    return { endpoint: 'stress', userText: body.prompt, prompt, drills, signal };
  }

  async answer(input: LlmCallInput): Promise<LlmResponseDto> {
    const result = await this.llm.complete(input);
    return { answer: result.answer, metadata: this.metadata(result) };
  }

  /**
   * SSE: `delta` events with text, then one `done` event with the metadata, or an `error` event whose data is the
   * problem the HTTP layer builds for the failure (the same builder as its JSON error responses). Resolves at the
   * first event (the HTTP layer's `SseResponses` writes them); a failure before it rejects.
   */
  async answerStream(input: LlmCallInput, hooks: StreamHooks): Promise<AsyncIterable<string>> {
    const stream = await this.llm.stream(input);
    const metadata = (result: LlmCallResult): LlmMetadataDto => this.metadata(result);
    async function* events(): AsyncGenerator<string> {
      try {
        for await (const item of stream) {
          if (item.type === 'delta') yield `event: delta\ndata: ${JSON.stringify({ text: item.text })}\n\n`;
          else {
            hooks.answered?.(item.result);
            yield `event: done\ndata: ${JSON.stringify({ answer: item.result.answer, metadata: metadata(item.result) })}\n\n`;
          }
        }
      } catch (error) {
        yield errorEvent(hooks.problem(error));
      }
    }
    return events();
  }

  metadata(result: LlmCallResult): LlmMetadataDto {
    return {
      prompt_id: result.promptId,
      provider: result.provider,
      simulated: result.simulated,
      model: result.model,
      model_version: result.modelVersion,
      requested_model: result.requestedModel,
      latency_ms: Math.round(result.latencyMs * 100) / 100,
      ...(result.ttftMs !== undefined ? { ttft_ms: Math.round(result.ttftMs * 100) / 100 } : {}),
      input_tokens: result.usage.inputTokens,
      output_tokens: result.usage.outputTokens,
      total_tokens: result.usage.totalTokens,
      cached_tokens: result.usage.cachedTokens,
      reasoning_tokens: result.usage.reasoningTokens,
      tokens_estimated: result.usage.estimated,
      cost_usd: result.cost.costUsd,
      cost_priced_as: result.cost.pricedAs,
      price_table_as_of: this.prices.table.as_of,
      retry_count: result.retryCount,
      attempts: result.attempts,
      fallback_used: result.fallbackUsed,
      models_tried: result.modelsTried,
      safety_block: result.safetyBlock !== undefined,
      ...(result.safetyBlock
        ? { safety_block_reason: result.safetyBlock.reason, safety_block_stage: result.safetyBlock.stage }
        : {}),
      finish_reason: result.finishReason,
      drills: result.drillsApplied,
      // Words of the answer's text and tool calls (`name({...})`, one a line), as the ledger's answer_chars counts them.
      'llm.response.length': wordCount(answerText(result.answer, result.toolCalls)),
      ...(result.quality
        ? {
            quality: {
              score: result.quality.overall,
              label: result.quality.label,
              reasons: result.quality.reasons,
              relevance: result.quality.relevance,
              groundedness: result.quality.groundedness,
              ungrounded: result.quality.ungrounded,
              failure_to_answer: result.quality.failureToAnswer,
              scorer: result.quality.scorer,
              judged: result.quality.judged,
              checks: result.quality.checks,
            },
            'llm.semantic_similarity_score': result.quality.semanticSimilarity,
            'llm.ungrounded_answer_flag': result.quality.ungrounded,
          }
        : {}),
      ...(result.inspection
        ? {
            safety: {
              pii_types: result.inspection.report.piiTypes,
              pii_redacted_before_provider: result.inspection.redacted,
              prompt_injection_score: result.inspection.report.injection.score,
              prompt_injection_flagged: result.inspection.report.injection.flagged,
              prompt_injection_signals: result.inspection.report.injection.signals,
              token_abuse: result.inspection.report.tokenAbuse,
            },
          }
        : {}),
      ...(result.cache
        ? { cache: { hit: true, age_s: result.cache.ageS, saved_cost_usd: result.cache.savedCostUsd } }
        : {}),
      ...(result.routing ? { routing: routingMetadata(result.routing) } : {}),
    };
  }

  endpointNames(): LlmEndpoint[] {
    return ['qa', 'reason', 'stress', 'chat'];
  }
}
