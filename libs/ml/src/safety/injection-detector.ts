import type { InjectionClassifier } from './injection-classifier';
import { matchInjectionPatterns, normaliseForInjection } from './injection-patterns';

export const INJECTION_THRESHOLD = 0.5;

export interface InjectionAssessment {
  /** Combined score in [0,1]: noisy-OR of the pattern evidence and the classifier's probability. */
  score: number;
  flagged: boolean;
  /** Names of the matching patterns, plus `classifier` when the classifier alone says injection. */
  signals: string[];
  patternScore: number;
  /** Undefined when no classifier is loaded (patterns only). */
  classifierScore?: number;
}

/** Prompt-injection detection: named patterns plus a small trained classifier, on de-obfuscated text. */
export class InjectionDetector {
  constructor(private readonly classifier?: InjectionClassifier) {}

  get hasClassifier(): boolean {
    return this.classifier !== undefined;
  }

  assess(text: string): InjectionAssessment {
    const normalised = normaliseForInjection(text);
    const patterns = matchInjectionPatterns(normalised);
    const classifierScore = this.classifier?.probability(normalised);
    const score = 1 - (1 - patterns.score) * (1 - (classifierScore ?? 0));
    const signals = [...patterns.signals];
    if (classifierScore !== undefined && classifierScore >= INJECTION_THRESHOLD) signals.push('classifier');
    return { score, flagged: score >= INJECTION_THRESHOLD, signals, patternScore: patterns.score, classifierScore };
  }
}
