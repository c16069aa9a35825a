import { join } from 'node:path';
import { PII_TYPES, PiiDetector, type PiiType } from './pii-detector';
import { evaluatePiiDetector, loadPiiEvalSet } from './pii-eval';

// data/pii-everyday/probe.jsonl: 181 rows of ordinary LLM traffic (code, logs, manifests, invoices, trivia, math,
// chat in eight languages), 15 of them with fake personal data, written on 2026-12-07 before any rule was changed
// for it (docs/ml.md, "Everyday and technical traffic"). First measured: 16 false findings in 15 rows (4 street
// addresses, 3 dates of birth, 7 person names, 2 phones), every labelled value found. These floors hold the level
// reached after the fixes: 13 false findings in 12 rows, all of them judgement calls the docs name (famous and
// fictional addresses and names after a title, a 1926 birth date, a grid reference shaped as a phone).
describe('PiiDetector on data/pii-everyday/probe.jsonl (regression floors)', () => {
  const set = loadPiiEvalSet(join(__dirname, '..', '..', '..', '..', 'data', 'pii-everyday', 'probe.jsonl'));
  const report = evaluatePiiDetector(new PiiDetector(), set);

  it('holds 150+ rows, most without personal data, every labelled value in its row', () => {
    expect(set.length).toBeGreaterThanOrEqual(150);
    expect(set.filter((r) => r.spans.length === 0).length).toBeGreaterThanOrEqual(150);
    for (const r of set) for (const s of r.spans) expect(r.text.slice(s.start, s.end)).toBe(s.value);
  });

  it('finds every labelled value, of the right type', () => {
    expect({ found: report.overall.found, leaked: report.leaked, wrongType: report.overall.wrongType }).toEqual({
      found: report.overall.labelled,
      leaked: 0,
      wrongType: 0,
    });
  });

  it('at most the false findings measured, per type, and in at most 12 rows', () => {
    const ceilings: Record<PiiType, number> = {
      email: 0,
      phone: 1,
      credit_card: 0,
      iban: 0,
      national_id: 0,
      ip_address: 0,
      // Code, hashes, UUIDs, digests, base64 images and LLM settings (max_tokens, tokenizer) are not secrets.
      secret: 0,
      date_of_birth: 1,
      street_address: 4,
      person_name: 7,
    };
    for (const type of PII_TYPES)
      expect({ type, within: report.perType[type].falsePositives <= ceilings[type] }).toEqual({ type, within: true });
    expect(new Set(report.falsePositives.map((f) => f.line)).size).toBeLessThanOrEqual(12);
  });
});
