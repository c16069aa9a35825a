import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { PiiDetector, type PiiType } from '../pii/pii-detector';
import { InjectionDetector } from './injection-detector';
import { assessToolDescriptions, type ToolDescription } from './tool-poisoning';

export interface PromptSafetyReport {
  /** Distinct PII types found in the prompt (never the values). */
  piiTypes: PiiType[];
  /**
   * The prompt's injection assessment, with the call's tool declarations': `flagged` when either is; the score is the
   * higher; `signals` the prompt's, then the tools' (`tool_*`); `tools` names the poisoned tools, if any.
   */
  injection: { score: number; flagged: boolean; signals: string[]; tools?: string[] };
  /** Input tokens above TOKEN_ABUSE_MAX_INPUT_TOKENS. */
  tokenAbuse: boolean;
}

/** The classifier reads at most this much of a prompt (head and tail); patterns read all of it. */
const CLASSIFIER_HEAD_CHARS = 15_000;
const CLASSIFIER_TAIL_CHARS = 5_000;

/** Inspects prompts before they reach the provider: PII, prompt injection, token abuse. Synchronous. */
@Injectable()
export class SafetyService {
  private readonly maxInputTokens: number;

  constructor(
    config: AppConfig,
    private readonly pii: PiiDetector,
    private readonly injection: InjectionDetector,
  ) {
    this.maxInputTokens = config.safety.tokenAbuseMaxInputTokens;
  }

  inspectPrompt(text: string, inputTokens: number, tools: readonly ToolDescription[] = []): PromptSafetyReport {
    const bounded =
      text.length > CLASSIFIER_HEAD_CHARS + CLASSIFIER_TAIL_CHARS
        ? `${text.slice(0, CLASSIFIER_HEAD_CHARS)}\n${text.slice(-CLASSIFIER_TAIL_CHARS)}`
        : text;
    const injection = this.injection.assess(bounded);
    const poisoned = tools.length > 0 ? assessToolDescriptions(tools) : undefined;
    const score = Math.max(injection.score, poisoned?.flagged ? poisoned.score : 0);
    return {
      piiTypes: this.pii.types(text),
      injection: {
        score: Math.round(score * 1000) / 1000,
        flagged: injection.flagged || poisoned?.flagged === true,
        signals: poisoned?.flagged ? [...injection.signals, ...poisoned.signals] : injection.signals,
        ...(poisoned?.flagged ? { tools: poisoned.tools } : {}),
      },
      tokenAbuse: inputTokens > this.maxInputTokens,
    };
  }

  /** The text with PII and secrets replaced by `[REDACTED:TYPE]` (PII_REDACT_PROMPTS, logs, spans). */
  redact(text: string): string {
    return this.pii.redact(text);
  }
}
