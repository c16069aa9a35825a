import { readFileSync } from 'node:fs';
import { confusion } from '../quality/evaluation';

/** One row of the hand-written injection sets (data/injection-dev/dev.jsonl, data/injection-eval/eval.jsonl). */
export interface LabelledPrompt {
  text: string;
  /** A retrieved document the prompt carries (indirect injection lives here). */
  document?: string;
  label: 'attack' | 'benign';
  category: string;
  language: string;
  source?: string;
}

export function readLabelledPrompts(path: string): LabelledPrompt[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LabelledPrompt);
}

/** The prompt as the pipeline sees it: the document first, then the user's words (as a RAG prompt is built). */
export function promptOf(row: Pick<LabelledPrompt, 'text' | 'document'>): string {
  return row.document ? `${row.document}\n\n${row.text}` : row.text;
}

export interface PrfSummary {
  n: number;
  attacks: number;
  precision: number;
  recall: number;
  f1: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

export function prf(predicted: readonly boolean[], labels: readonly number[]): PrfSummary {
  const c = confusion(predicted, labels);
  return {
    n: labels.length,
    attacks: labels.filter((y) => y === 1).length,
    precision: round(c.tp + c.fp === 0 ? 1 : c.precision),
    recall: round(c.tp + c.fn === 0 ? 1 : c.recall),
    f1: round(c.f1),
    tp: c.tp,
    fp: c.fp,
    fn: c.fn,
    tn: c.tn,
  };
}

export interface SetReport {
  overall: PrfSummary;
  /** Rows of each category (attack categories hold only attacks; benign rows are `benign` / `benign-lookalike`). */
  byCategory: Record<string, PrfSummary>;
  /** Each attack category against all benign rows: its recall, and the precision it would have alone. */
  byAttackCategoryVsBenign: Record<string, PrfSummary>;
  byLanguage: Record<string, PrfSummary>;
}

/** Precision / recall / F1 overall, per category and per language, from one flag per row. */
export function reportOn(rows: readonly LabelledPrompt[], flagged: readonly boolean[]): SetReport {
  const labels = rows.map((r) => (r.label === 'attack' ? 1 : 0));
  const group = (key: (r: LabelledPrompt) => string): Record<string, PrfSummary> => {
    const out: Record<string, PrfSummary> = {};
    for (const k of [...new Set(rows.map(key))].sort()) {
      const idx = rows.map((r, i) => (key(r) === k ? i : -1)).filter((i) => i >= 0);
      out[k] = prf(
        idx.map((i) => flagged[i]!),
        idx.map((i) => labels[i]!),
      );
    }
    return out;
  };
  const benign = rows.map((r, i) => (r.label === 'benign' ? i : -1)).filter((i) => i >= 0);
  const vsBenign: Record<string, PrfSummary> = {};
  for (const cat of [...new Set(rows.filter((r) => r.label === 'attack').map((r) => r.category))].sort()) {
    const idx = [
      ...rows.map((r, i) => (r.label === 'attack' && r.category === cat ? i : -1)).filter((i) => i >= 0),
      ...benign,
    ];
    vsBenign[cat] = prf(
      idx.map((i) => flagged[i]!),
      idx.map((i) => labels[i]!),
    );
  }
  return {
    overall: prf(flagged, labels),
    byCategory: group((r) => r.category),
    byAttackCategoryVsBenign: vsBenign,
    byLanguage: group((r) => r.language),
  };
}
