import { join } from 'node:path';
import { PII_TYPES, PiiDetector } from './pii-detector';
import { evaluatePiiDetector, loadPiiEvalSet } from './pii-eval';

// data/pii-fourth/probe.jsonl: 81 rows written by hand on 2026-12-08 before any rule of the fourth pass (docs/ml.md,
// "Fourth pass"): bank account and routing numbers, sort codes, medical record and health insurance numbers, e-mail
// addresses spelled out against harvesters, phones and ids in prose, log lines, API keys; 42 look-alikes (order,
// tracking and parcel numbers, versions, amounts with a leading 0, ISBNs, timestamps, hashes, cloud account ids, "at"
// and "dot" in prose). Measured first: 14 of 45 values found, 3 false findings (amounts read as phones) and an NHS
// number read as a phone; then every rule was written from it, so it is a dev set and these floors are the level
// reached. The holdout beside it (30 rows, written at the same time) was scored once, at the end.
const dir = join(__dirname, '..', '..', '..', '..', 'data', 'pii-fourth');

describe('PiiDetector on data/pii-fourth/probe.jsonl (regression floors)', () => {
  const set = loadPiiEvalSet(join(dir, 'probe.jsonl'));
  const report = evaluatePiiDetector(new PiiDetector(), set);

  it('holds 81 rows, 42 without personal data, every labelled value in its row', () => {
    expect(set.length).toBeGreaterThanOrEqual(81);
    expect(set.filter((r) => r.spans.length === 0).length).toBeGreaterThanOrEqual(42);
    for (const r of set) for (const s of r.spans) expect(r.text.slice(s.start, s.end)).toBe(s.value);
  });

  it('finds every labelled value, of the right type, with no false finding', () => {
    expect({
      found: report.overall.found,
      leaked: report.leaked,
      wrongType: report.overall.wrongType,
      falsePositives: report.overall.falsePositives,
    }).toEqual({ found: report.overall.labelled, leaked: 0, wrongType: 0, falsePositives: 0 });
    for (const type of ['bank_account', 'medical_id'] as const) expect(PII_TYPES).toContain(type);
  });
});

// Scored once, after the rules were written (2026-12-08): 20 of 21 values, no false finding (before the pass 8 of 21
// and an amount read as a phone). Its miss is in docs/ml.md: a member ID named before the words for the insurance
// ("member ID on my health insurance card is W123456789").
describe('PiiDetector on data/pii-fourth/holdout.jsonl (regression floors)', () => {
  it('holds 30 rows, every value in its row; at least 20 of 21 values found, no false finding', () => {
    const set = loadPiiEvalSet(join(dir, 'holdout.jsonl'));
    expect(set.length).toBeGreaterThanOrEqual(30);
    for (const r of set) for (const s of r.spans) expect(r.text.slice(s.start, s.end)).toBe(s.value);
    const report = evaluatePiiDetector(new PiiDetector(), set);
    expect({ found: report.overall.found >= 20, falsePositives: report.overall.falsePositives }).toEqual({
      found: true,
      falsePositives: 0,
    });
  });
});
