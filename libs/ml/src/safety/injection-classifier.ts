import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fnv1a } from '../embeddings/tokenize';

export const INJECTION_MODEL_DIR = 'injection';
export const INJECTION_FEATURE_BITS = 14;

/** The classifier reads the head and tail of long prompts (the user's own words; patterns read everything). */
export const CLASSIFIER_HEAD_CHARS = 2_000;
export const CLASSIFIER_TAIL_CHARS = 1_000;

/**
 * Word tokens in any script, lower-cased: runs of letters, marks and digits (inner apostrophes and hyphens kept);
 * each Han, kana or Hangul character is a token of its own (bigrams and 4-grams then cover words).
 */
const TOKEN =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*/gu;

export function injectionTokens(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of a prefix tag followed by `text[start, end)`, without building the substring. */
function hashRange(tag: number, text: string, start: number, end: number): number {
  let h = Math.imul(FNV_OFFSET ^ tag, FNV_PRIME) >>> 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME) >>> 0;
  return h;
}

/** Continues an FNV-1a hash over `text`: fnv1a(a + b) === fnvContinue(fnv1a(a), b). */
function fnvContinue(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME) >>> 0;
  return h;
}

const UNIGRAM_PREFIX = fnv1a('u:');
const BIGRAM_PREFIX = fnv1a('b:');
const SPACE = 0x20;

/**
 * The distinct features of one text in first-seen order, collected without allocating: a mark per hash
 * bucket and the list of marked buckets, both reused from call to call (request-path code is synchronous).
 */
class FeatureCollector {
  private readonly marks: Uint8Array;
  private list = new Int32Array(256);
  private size = 0;

  constructor(readonly bits: number) {
    this.marks = new Uint8Array(1 << bits);
  }

  add(feature: number): void {
    if (this.marks[feature] === 1) return;
    this.marks[feature] = 1;
    if (this.size === this.list.length) {
      const grown = new Int32Array(this.list.length * 2);
      grown.set(this.list);
      this.list = grown;
    }
    this.list[this.size++] = feature;
  }

  /** The features collected since the last reset (a view, valid until the next reset). */
  features(): Int32Array {
    return this.list.subarray(0, this.size);
  }

  reset(): void {
    for (let i = 0; i < this.size; i++) this.marks[this.list[i]!] = 0;
    this.size = 0;
  }
}

const collectors = new Map<number, FeatureCollector>();

/**
 * Collects the hashed binary features of a normalised text (word unigrams, bigrams and character 4-grams)
 * into the shared collector for `bits`, reset first. The hashes equal fnv1a(`u:${word}`),
 * fnv1a(`b:${word} ${next}`) and the 4-grams of ` ${words.join(' ')} `: what the weights were trained on.
 */
function collectFeatures(normalised: string, bits: number): FeatureCollector {
  let collector = collectors.get(bits);
  if (!collector) {
    collector = new FeatureCollector(bits);
    collectors.set(bits, collector);
  }
  collector.reset();
  const text =
    normalised.length > CLASSIFIER_HEAD_CHARS + CLASSIFIER_TAIL_CHARS
      ? `${normalised.slice(0, CLASSIFIER_HEAD_CHARS)} ${normalised.slice(-CLASSIFIER_TAIL_CHARS)}`
      : normalised;
  const mask = (1 << bits) - 1;
  const words = injectionTokens(text);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    collector.add(fnvContinue(UNIGRAM_PREFIX, word) & mask);
    const next = words[i + 1];
    if (next !== undefined) {
      const h = Math.imul(fnvContinue(BIGRAM_PREFIX, word) ^ SPACE, FNV_PRIME) >>> 0;
      collector.add(fnvContinue(h, next) & mask);
    }
  }
  const squashed = ` ${words.join(' ')} `;
  for (let i = 0; i + 4 <= squashed.length; i++) collector.add(hashRange(0x63, squashed, i, i + 4) & mask);
  return collector;
}

/** Hashed binary features: word unigrams, bigrams and character 4-grams of the normalised text. */
export function injectionFeatures(normalised: string, bits = INJECTION_FEATURE_BITS): number[] {
  return Array.from(collectFeatures(normalised, bits).features());
}

export interface InjectionModelMeta {
  bits: number;
  bias: number;
  trainedAt: string;
  examples: number;
  heldOut: Record<string, unknown>;
  /** Flag threshold on the combined score, chosen on the development set (0.5 when absent). */
  threshold?: number;
}

/** Logistic regression over hashed features; weights trained by `trainInjectionClassifier`. */
export class InjectionClassifier {
  constructor(
    private readonly weights: Float32Array,
    private readonly bias: number,
    readonly bits: number,
    readonly threshold = 0.5,
  ) {}

  static load(dir: string): InjectionClassifier {
    const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as InjectionModelMeta;
    const bin = readFileSync(join(dir, 'weights.bin'));
    const weights = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    if (weights.length !== 1 << meta.bits)
      throw new Error(`injection weights in ${dir} do not match ${meta.bits} bits`);
    return new InjectionClassifier(weights, meta.bias, meta.bits, meta.threshold ?? 0.5);
  }

  /** P(injection) for already-normalised text. */
  probability(normalised: string): number {
    const features = collectFeatures(normalised, this.bits).features();
    if (features.length === 0) return 0;
    const scale = 1 / Math.sqrt(features.length);
    let z = this.bias;
    for (const f of features) z += this.weights[f]! * scale;
    return 1 / (1 + Math.exp(-z));
  }

  /** The same weights with another flag threshold. */
  withThreshold(threshold: number): InjectionClassifier {
    return new InjectionClassifier(this.weights, this.bias, this.bits, threshold);
  }

  async save(dir: string, meta: Omit<InjectionModelMeta, 'bits' | 'bias' | 'threshold'>): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'weights.bin'),
      Buffer.from(this.weights.buffer, this.weights.byteOffset, this.weights.byteLength),
    );
    await writeFile(
      join(dir, 'model.json'),
      `${JSON.stringify({ bits: this.bits, bias: this.bias, threshold: this.threshold, ...meta }, null, 2)}\n`,
    );
  }
}

/** Deterministic SGD with L2 on (normalised text, label) pairs. */
export function trainInjectionClassifier(
  rows: ReadonlyArray<{ text: string; label: number }>,
  options: { epochs?: number; learningRate?: number; l2?: number; seed?: number; bits?: number } = {},
): InjectionClassifier {
  const { epochs = 40, learningRate = 0.5, l2 = 1e-4, seed = 13, bits = INJECTION_FEATURE_BITS } = options;
  const weights = new Float32Array(1 << bits);
  let bias = 0;
  const data = rows.map((r) => ({ features: injectionFeatures(r.text, bits), y: r.label }));
  let s = seed >>> 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = data.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = s % (i + 1);
      [data[i], data[j]] = [data[j]!, data[i]!];
    }
    const rate = learningRate / (1 + epoch * 0.1);
    for (const { features, y } of data) {
      if (features.length === 0) continue;
      const scale = 1 / Math.sqrt(features.length);
      let z = bias;
      for (const f of features) z += weights[f]! * scale;
      const gradient = 1 / (1 + Math.exp(-z)) - y;
      for (const f of features) weights[f] = weights[f]! - rate * (gradient * scale + l2 * weights[f]!);
      bias -= rate * gradient;
    }
  }
  return new InjectionClassifier(weights, bias, bits);
}
