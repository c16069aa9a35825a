import type { InjectionClassifier } from './injection-classifier';
import { matchInjectionPatterns, normaliseForInjection } from './injection-patterns';

/** Default flag threshold (patterns only); a loaded model carries its own, chosen on the development set. */
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

  /** The classifier probability at or above which the classifier alone flags a prompt (chosen on dev). */
  get threshold(): number {
    return this.classifier?.threshold ?? INJECTION_THRESHOLD;
  }

  get hasClassifier(): boolean {
    return this.classifier !== undefined;
  }

  assess(text: string): InjectionAssessment {
    const normalised = normaliseForInjection(text);
    const patterns = matchInjectionPatterns(normalised);
    const classifierScore = this.classifier?.probability(normalised);
    const score = 1 - (1 - patterns.score) * (1 - (classifierScore ?? 0));
    const signals = [...patterns.signals];
    const classifierFlags = classifierScore !== undefined && classifierScore >= this.threshold;
    if (classifierFlags) signals.push('classifier');
    // The hand-written patterns flag on their own (score 0.5); the classifier alone only above its threshold.
    const flagged = patterns.score >= INJECTION_THRESHOLD || classifierFlags;
    return { score, flagged, signals, patternScore: patterns.score, classifierScore };
  }
}
