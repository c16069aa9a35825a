import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { PiiDetector, type PiiType } from '../pii/pii-detector';
import { InjectionDetector } from './injection-detector';

export interface PromptSafetyReport {
  /** Distinct PII types found in the prompt (never the values). */
  piiTypes: PiiType[];
  injection: { score: number; flagged: boolean; signals: string[] };
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

  inspectPrompt(text: string, inputTokens: number): PromptSafetyReport {
    const bounded =
      text.length > CLASSIFIER_HEAD_CHARS + CLASSIFIER_TAIL_CHARS
        ? `${text.slice(0, CLASSIFIER_HEAD_CHARS)}\n${text.slice(-CLASSIFIER_TAIL_CHARS)}`
        : text;
    const injection = this.injection.assess(bounded);
    return {
      piiTypes: this.pii.types(text),
      injection: {
        score: Math.round(injection.score * 1000) / 1000,
        flagged: injection.flagged,
        signals: injection.signals,
      },
      tokenAbuse: inputTokens > this.maxInputTokens,
    };
  }

  /** The text with PII and secrets replaced by `[REDACTED:TYPE]` (PII_REDACT_PROMPTS, logs, spans). */
  redact(text: string): string {
    return this.pii.redact(text);
  }
}
