import { join } from 'node:path';
import { readEvalSet } from '../../../../../scripts/router/router-eval.task';
import { generateWorkload } from './workload-generator';
import { WORKLOAD_KINDS, WORKLOAD_MIXTURE } from './workload-mixture';

const EVAL_SET = join(__dirname, '../../../../../data/router-eval/requests.jsonl');

describe('router workloads', () => {
  it('the documented mixture sums to 1 over every kind', () => {
    expect(Object.keys(WORKLOAD_MIXTURE).sort()).toEqual([...WORKLOAD_KINDS].sort());
    expect(Object.values(WORKLOAD_MIXTURE).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  });

  it('generates deterministically, by the mixture, /qa with documents for the document kinds', () => {
    const a = generateWorkload(4000, 3);
    expect(generateWorkload(4000, 3)).toEqual(a);
    expect(generateWorkload(50, 4).map((r) => r.text)).not.toEqual(a.slice(0, 50).map((r) => r.text));
    for (const kind of WORKLOAD_KINDS) {
      const share = a.filter((r) => r.kind === kind).length / a.length;
      expect(Math.abs(share - WORKLOAD_MIXTURE[kind])).toBeLessThan(0.02);
    }
    for (const r of a.filter((x) => x.kind === 'doc_qa' || x.kind === 'summarise')) {
      expect(r.endpoint).toBe('qa');
      expect(r.document?.length).toBeGreaterThan(40);
    }
    const sizes = a.filter((r) => r.document).map((r) => r.document!.length);
    expect(Math.min(...sizes)).toBeLessThan(300);
    expect(Math.max(...sizes)).toBeGreaterThan(6000);
  });

  it('the hand-written evaluation set has 200+ labelled requests that the generator did not produce', () => {
    const set = readEvalSet(EVAL_SET);
    expect(set.length).toBeGreaterThanOrEqual(200);
    for (const kind of WORKLOAD_KINDS) expect(set.filter((r) => r.kind === kind).length).toBeGreaterThanOrEqual(10);
    expect(new Set(set.map((r) => r.id)).size).toBe(set.length);
    const generated = new Set([...generateWorkload(8000, 1), ...generateWorkload(2000, 2)].map((r) => r.text));
    expect(set.filter((r) => generated.has(r.text))).toEqual([]);
  });
});
