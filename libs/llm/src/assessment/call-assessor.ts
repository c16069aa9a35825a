import { Injectable } from '@nestjs/common';
import { DomainError } from '@app/common';
import { AppConfig } from '@app/config';
import {
  DriftMonitor,
  previousTurnOf,
  QualityRefiner,
  type QualityReport,
  QualityScorer,
  QualityInstrumentation,
  SafetyService,
  type StructuredExpectation,
} from '@app/ml';
import { TracerPort } from '@app/telemetry';
import type { ChatCallOptions, LlmCallInput, LlmCallResult, PromptInspection } from '../llm-call.types';
import { answerText, declarationTexts, redactArguments, toolDescriptions } from '../pipeline/chat-text';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import { LLM_ERRORS } from '../llm.errors';
import { TokenEstimator } from '../tokens/token-estimator';

/**
 * Quality and safety around every LLM call. Before: PII, prompt injection (422 under
 * PROMPT_INJECTION_POLICY=block) and token abuse, with optional PII redaction of the prompt. After: the
 * quality score (synchronous, offline embedder), drift, the quality/security metrics once per call, LLM
 * Observability evaluations on the call's span, and the remote-embedding refinement off the response path.
 */
@Injectable()
export class CallAssessor {
  constructor(
    private readonly config: AppConfig,
    private readonly safety: SafetyService,
    private readonly scorer: QualityScorer,
    private readonly drift: DriftMonitor,
    private readonly qualityTelemetry: QualityInstrumentation,
    private readonly refiner: QualityRefiner,
    private readonly tracer: TracerPort,
    private readonly callTelemetry: LlmCallInstrumentation,
    private readonly tokens: TokenEstimator,
  ) {}

  /** Inspects the prompt; returns the input to send (redacted when configured), or throws PROMPT_INJECTION. */
  inspect(input: LlmCallInput, provider: string): LlmCallInput {
    // What the provider bills as input: the prompt and a chat call's tool declarations and JSON schema. Before, only
    // the prompt was counted: 500 KB of tool schemas passed the check that a 500 KB prompt failed.
    const texts = [input.prompt, ...declarationTexts(input.chat)];
    // A BPE token is at least one byte: a text of at most N bytes cannot exceed N tokens, so short prompts skip the
    // tokenizer (it is the costliest part of the check).
    const limit = this.config.safety.tokenAbuseMaxInputTokens;
    const bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    const inputTokens = bytes <= limit ? 0 : texts.reduce((sum, text) => sum + this.tokens.count(text), 0);
    const report = this.safety.inspectPrompt(input.prompt, inputTokens, toolDescriptions(input.chat));
    const block = report.injection.flagged && this.config.safety.injectionPolicy === 'block';
    const action = report.injection.flagged ? (block ? 'blocked' : 'flagged') : 'none';
    const redact = this.config.safety.redactPrompts && report.piiTypes.length > 0;
    const inspection: PromptInspection = { report, action, redacted: redact };
    if (block) {
      const model = input.chat?.model ?? this.config.llm.model;
      const tags = this.callTelemetry.tags(input.endpoint, provider, model, 'error');
      this.qualityTelemetry.record(undefined, report, tags, action);
      const poisoned = report.injection.tools;
      throw new DomainError(
        LLM_ERRORS.PROMPT_INJECTION,
        poisoned === undefined
          ? 'The prompt was refused: it looks like a prompt-injection attempt (PROMPT_INJECTION_POLICY=block).'
          : `The call was refused: the declaration of tool ${poisoned.map((name) => `'${name}'`).join(', ')} carries ` +
              'instructions to the model (tool poisoning; PROMPT_INJECTION_POLICY=block).',
        {
          injectionScore: report.injection.score,
          signals: report.injection.signals,
          ...(poisoned === undefined ? {} : { tools: poisoned }),
        },
      );
    }
    return {
      ...input,
      prompt: redact ? this.safety.redact(input.prompt) : input.prompt,
      document: redact && input.document ? this.safety.redact(input.document) : input.document,
      ...(redact && input.chat ? { chat: this.redactChat(input.chat) } : {}),
      inspection,
    };
  }

  /**
   * A chat call's messages with their PII replaced (PII_REDACT_PROMPTS), as its prompt is: their content and the
   * arguments of an assistant message's tool calls. Before, the arguments went to the provider as they came
   * (`send_email({"to": "<an address>"})`), while the inspection had found their PII and the call said it redacted it.
   */
  private redactChat(chat: ChatCallOptions): ChatCallOptions {
    const redact = (text: string): string => this.safety.redact(text);
    return {
      ...chat,
      messages: chat.messages.map((m) => {
        const content = m.content === '' ? m.content : redact(m.content);
        if (m.toolCalls === undefined) return { ...m, content };
        const toolCalls = m.toolCalls.map((call) => ({ ...call, arguments: redactArguments(call.arguments, redact) }));
        return { ...m, content, toolCalls };
      }),
    };
  }

  /** Scores the answer: what the response carries. */
  score(input: LlmCallInput, result: LlmCallResult): QualityReport {
    // A chat call's previous exchange: a follow-up ("Tell me more", "Why?") is judged against it too.
    const previousTurn = input.chat === undefined ? undefined : previousTurnOf(input.chat.messages);
    return this.scorer.score({
      endpoint: result.endpoint,
      question: input.userText,
      // An answer that only calls tools is scored on its calls (`get_weather({"city":"Paris"})`), not as empty.
      answer: answerText(result.answer, result.toolCalls),
      document: input.document,
      finishReason: result.finishReason,
      safetyBlocked: result.safetyBlock !== undefined,
      ...structuredExpectation(input, result),
      ...(previousTurn === undefined ? {} : { previousTurn }),
    });
  }

  /** Records what the scores and the inspection say (drift, metrics, evaluations, sampled refinement), once. */
  record(input: LlmCallInput, result: LlmCallResult, quality: QualityReport): void {
    const status = result.safetyBlock ? 'safety_block' : 'ok';
    const tags = this.callTelemetry.tags(result.endpoint, result.provider, result.model, status);
    this.drift.record(result.endpoint, result.model, quality.overall);
    if (input.inspection) this.qualityTelemetry.record(quality, input.inspection.report, tags, input.inspection.action);
    const ref = result.evaluationRef;
    if (ref !== undefined) {
      // One evaluation per ordinary call (each costs an event to the agent); the others only when they say something.
      this.tracer.submitEvaluation(ref, {
        label: 'quality_score',
        metricType: 'score',
        value: quality.overall,
        tags: { label: quality.label, scorer: quality.scorer, judged: quality.judged },
      });
      if (quality.groundedness !== null) {
        this.tracer.submitEvaluation(ref, { label: 'groundedness', metricType: 'score', value: quality.groundedness });
      }
      if (quality.failureToAnswer) {
        this.tracer.submitEvaluation(ref, { label: 'failure_to_answer', metricType: 'boolean', value: true });
      }
      if (input.inspection?.report.injection.flagged) {
        this.tracer.submitEvaluation(ref, {
          label: 'prompt_injection',
          metricType: 'score',
          value: input.inspection.report.injection.score,
        });
      }
    }
    this.refiner.submit(input.userText, result.answer, tags, (remote) => {
      if (ref !== undefined)
        this.tracer.submitEvaluation(ref, {
          label: 'relevance_remote',
          metricType: 'score',
          value: remote.relevance,
          tags: { embedder: remote.embedder },
        });
    });
  }

  /** A failed call still counts its prompt's security findings. */
  assessFailure(input: LlmCallInput, provider: string, model: string, status: 'error' | 'rejected' = 'error'): void {
    if (!input.inspection) return;
    this.qualityTelemetry.record(
      undefined,
      input.inspection.report,
      this.callTelemetry.tags(input.endpoint, provider, model, status),
      input.inspection.action,
    );
  }
}

/**
 * What a chat call's answer must be when it is not prose, for the scorer to judge its structure: its tool calls
 * against the functions offered, or its JSON against `response_format` (and its schema). Before, both were scored
 * as prose against the question, and a correct JSON answer scored `degraded` as often as a wrong one.
 */
function structuredExpectation(input: LlmCallInput, result: LlmCallResult): { structured?: StructuredExpectation } {
  const chat = input.chat;
  if (chat === undefined) return {};
  if (result.toolCalls !== undefined && result.toolCalls.length > 0) {
    return { structured: { kind: 'tool_calls', calls: result.toolCalls, tools: chat.tools ?? [] } };
  }
  const format = chat.responseFormat;
  if (format === undefined) return {};
  return {
    structured: { kind: 'json', ...(format.type === 'json_schema' && format.schema ? { schema: format.schema } : {}) },
  };
}
