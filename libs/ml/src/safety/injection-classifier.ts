import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fnv1a, tokenize } from '../embeddings/tokenize';

export const INJECTION_MODEL_DIR = 'injection';
export const INJECTION_FEATURE_BITS = 14;

/** Hashed binary features: word unigrams, bigrams and character 4-grams of the normalised text. */
export function injectionFeatures(normalised: string, bits = INJECTION_FEATURE_BITS): number[] {
  const mask = (1 << bits) - 1;
  const out = new Set<number>();
  const words = tokenize(normalised);
  words.forEach((w, i) => {
    out.add(fnv1a(`u:${w}`) & mask);
    if (i + 1 < words.length) out.add(fnv1a(`b:${w} ${words[i + 1]}`) & mask);
  });
  const squashed = ` ${words.join(' ')} `;
  for (let i = 0; i + 4 <= squashed.length; i++) out.add(fnv1a(`c:${squashed.slice(i, i + 4)}`) & mask);
  return [...out];
}

export interface InjectionModelMeta {
  bits: number;
  bias: number;
  trainedAt: string;
  examples: number;
  heldOut: Record<string, unknown>;
}

/** Logistic regression over hashed features; weights trained by `trainInjectionClassifier`. */
export class InjectionClassifier {
  constructor(
    private readonly weights: Float32Array,
    private readonly bias: number,
    readonly bits: number,
  ) {}

  static load(dir: string): InjectionClassifier {
    const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as InjectionModelMeta;
    const bin = readFileSync(join(dir, 'weights.bin'));
    const weights = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    if (weights.length !== 1 << meta.bits)
      throw new Error(`injection weights in ${dir} do not match ${meta.bits} bits`);
    return new InjectionClassifier(weights, meta.bias, meta.bits);
  }

  /** P(injection) for already-normalised text. */
  probability(normalised: string): number {
    const features = injectionFeatures(normalised, this.bits);
    if (features.length === 0) return 0;
    const scale = 1 / Math.sqrt(features.length);
    let z = this.bias;
    for (const f of features) z += this.weights[f]! * scale;
    return 1 / (1 + Math.exp(-z));
  }

  async save(dir: string, meta: Omit<InjectionModelMeta, 'bits' | 'bias'>): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'weights.bin'),
      Buffer.from(this.weights.buffer, this.weights.byteOffset, this.weights.byteLength),
    );
    await writeFile(
      join(dir, 'model.json'),
      `${JSON.stringify({ bits: this.bits, bias: this.bias, ...meta }, null, 2)}\n`,
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
