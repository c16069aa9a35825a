import { join } from 'node:path';
import { PII_TYPES, PiiDetector, type PiiType } from './pii-detector';
import { evaluatePiiDetector, loadPiiEvalSet } from './pii-eval';

// data/pii-everyday/probe.jsonl: 181 rows of ordinary LLM traffic (code, logs, manifests, invoices, trivia, math,
// chat in eight languages), 15 of them with fake personal data, written on 2026-12-07 before any rule was changed
// for it (docs/ml.md, "Everyday and technical traffic"). First measured: 16 false findings in 15 rows (4 street
// addresses, 3 dates of birth, 7 person names, 2 phones), every labelled value found; 13 in 12 rows after the first
// fixes. A second pass the same day fixed the false alarms left open (names after "I am"/"this is", codes read as
// phones) and added 52 rows written before their results were looked at (rows 182-233, notes "round 2"; 7 with
// personal data): on them 12 false findings and 2 leaks before the second pass's fixes, 2 false findings after.
// These floors hold the level reached: 11 false findings in 10 rows, all judgement calls the docs name (famous and
// fictional addresses and names after a title, a 1926 birth date, a tutorial's `yourStrongPassword123`, a company's
// freephone number).
describe('PiiDetector on data/pii-everyday/probe.jsonl (regression floors)', () => {
  const set = loadPiiEvalSet(join(__dirname, '..', '..', '..', '..', 'data', 'pii-everyday', 'probe.jsonl'));
  const report = evaluatePiiDetector(new PiiDetector(), set);

  it('holds 233 rows, 211 without personal data, every labelled value in its row', () => {
    expect(set.length).toBeGreaterThanOrEqual(233);
    expect(set.filter((r) => r.spans.length === 0).length).toBeGreaterThanOrEqual(211);
    for (const r of set) for (const s of r.spans) expect(r.text.slice(s.start, s.end)).toBe(s.value);
  });

  it('finds every labelled value, of the right type', () => {
    expect({ found: report.overall.found, leaked: report.leaked, wrongType: report.overall.wrongType }).toEqual({
      found: report.overall.labelled,
      leaked: 0,
      wrongType: 0,
    });
  });

  it('at most the false findings measured, per type, and in at most 10 rows', () => {
    const ceilings: Record<PiiType, number> = {
      email: 0,
      // A company's freephone line (0800 ...): shaped as any UK number.
      phone: 1,
      credit_card: 0,
      iban: 0,
      bank_account: 0,
      national_id: 0,
      ip_address: 0,
      // Code, hashes, UUIDs, digests, base64 images, LLM settings (max_tokens, tokenizer) and paging tokens are not
      // secrets; a tutorial's `password: yourStrongPassword123` still is (as `YourPass2024!` must be).
      secret: 1,
      date_of_birth: 1,
      street_address: 4,
      person_name: 4,
      medical_id: 0,
    };
    for (const type of PII_TYPES)
      expect({ type, within: report.perType[type].falsePositives <= ceilings[type] }).toEqual({ type, within: true });
    expect(new Set(report.falsePositives.map((f) => f.line)).size).toBeLessThanOrEqual(10);
  });
});
