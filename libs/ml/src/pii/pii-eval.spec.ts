import { join } from 'node:path';
import { PII_TYPES, PiiDetector, type PiiFinding, type PiiType } from './pii-detector';
import { evaluatePiiDetector, formatPiiEvalReport, loadPiiEvalSet, parsePiiEvalSet } from './pii-eval';

const dataDir = join(__dirname, '..', '..', '..', '..', 'data', 'pii-eval');
const row = (text: string, spans: { type: string; value: string }[] = []): string =>
  JSON.stringify({ text, spans, note: 'n' });

describe('parsePiiEvalSet', () => {
  it('locates each value in its text, a repeated value at its next occurrence', () => {
    const parsed = parsePiiEvalSet(
      row('call 020 7946 0958 or 020 7946 0958', [
        { type: 'phone', value: '020 7946 0958' },
        { type: 'phone', value: '020 7946 0958' },
      ]),
    );
    expect(parsed[0]?.spans.map((s) => [s.start, s.end])).toEqual([
      [5, 18],
      [22, 35],
    ]);
  });
  it('refuses a value that is not in its text, naming the line', () => {
    expect(() =>
      parsePiiEvalSet(`${row('a')}\n${row('mail me', [{ type: 'email', value: 'x@example.com' }])}`),
    ).toThrow(/line 2: value "x@example.com" does not occur/);
  });
  it('refuses a value labelled twice that occurs once', () => {
    expect(() =>
      parsePiiEvalSet(
        row('x@example.com', [
          { type: 'email', value: 'x@example.com' },
          { type: 'email', value: 'x@example.com' },
        ]),
      ),
    ).toThrow(/does not occur/);
  });
  it('refuses an unknown type and a row that is not JSON', () => {
    expect(() => parsePiiEvalSet(row('a b', [{ type: 'name', value: 'a' }]))).toThrow(/unknown type "name"/);
    expect(() => parsePiiEvalSet('{"text": ')).toThrow(/line 1: not JSON/);
  });
});

describe('evaluatePiiDetector', () => {
  // A stand-in detector that reports fixed findings, so each scoring rule is checked on its own.
  const fixed = (byText: Record<string, PiiFinding[]>) => ({ detect: (text: string) => byText[text] ?? [] });
  const text = 'mail a@example.com, card 4111 1111 1111 1111, v1.2.3.4';
  const rows = parsePiiEvalSet(
    row(text, [
      { type: 'email', value: 'a@example.com' },
      { type: 'credit_card', value: '4111 1111 1111 1111' },
    ]),
  );
  const at = (value: string, type: PiiType, trim = 0): PiiFinding => {
    const start = text.indexOf(value);
    return { type, start, end: start + value.length - trim };
  };

  it('counts a value found when a finding of its type covers it whole', () => {
    const report = evaluatePiiDetector(fixed({ [text]: [at('mail a@example.com', 'email')] }), rows);
    expect(report.perType.email).toMatchObject({ labelled: 1, found: 1, recall: 1, correct: 1, precision: 1 });
    expect(report.perType.credit_card).toMatchObject({ labelled: 1, found: 0, recall: 0 });
    expect(report.misses).toEqual([expect.objectContaining({ type: 'credit_card', partial: false })]);
    expect(report.leaked).toBe(1);
  });
  it('a finding that covers part of a value is a partial miss, though a correct finding', () => {
    const report = evaluatePiiDetector(fixed({ [text]: [at('4111 1111 1111 1111', 'credit_card', 5)] }), rows);
    expect(report.perType.credit_card).toMatchObject({ found: 0, correct: 1, falsePositives: 0 });
    expect(report.misses.find((m) => m.type === 'credit_card')).toMatchObject({ partial: true });
    expect(report.leaked).toBe(2);
  });
  it('counts a finding on nothing labelled as a false positive, one on another type apart', () => {
    const report = evaluatePiiDetector(
      fixed({ [text]: [at('1.2.3.4', 'ip_address'), at('4111 1111 1111 1111', 'phone')] }),
      rows,
    );
    expect(report.perType.ip_address).toMatchObject({ findings: 1, falsePositives: 1, precision: 0 });
    expect(report.perType.phone).toMatchObject({ findings: 1, falsePositives: 0, wrongType: 1, precision: 1 });
    expect(report.falsePositives).toEqual([
      expect.objectContaining({ type: 'ip_address', value: '1.2.3.4' }),
      expect.objectContaining({ type: 'phone', labelled: 'credit_card' }),
    ]);
    expect(report.misses.find((m) => m.type === 'credit_card')).toMatchObject({ coveredAsOtherType: true });
    expect(report.leaked).toBe(1);
    expect(report.overall).toMatchObject({ labelled: 2, found: 0, findings: 2, falsePositives: 1, wrongType: 1 });
  });
  it('formats a table row per type and the overall row', () => {
    const table = formatPiiEvalReport(evaluatePiiDetector(fixed({}), rows), true);
    for (const type of PII_TYPES) expect(table).toContain(`| \`${type}\` |`);
    expect(table).toMatch(/\| \*\*overall\*\* \| 2 \| 0 \| 0\.0% \|/);
    expect(table).toContain('misses (2)');
  });
});

describe('data/pii-eval', () => {
  const evalSet = loadPiiEvalSet(join(dataDir, 'eval.jsonl'));
  it('eval.jsonl: at least 300 rows, every type labelled 20+ times, 150+ hard negatives', () => {
    expect(evalSet.length).toBeGreaterThanOrEqual(300);
    // The types claimed since 2026-12-07 have their own sets: dob-address.jsonl (dates of birth, street addresses),
    // names.jsonl (person names); since 2026-12-08 data/pii-fourth (bank accounts, medical ids).
    const ownSet = ['date_of_birth', 'street_address', 'person_name', 'bank_account', 'medical_id'];
    for (const type of PII_TYPES.filter((t) => !ownSet.includes(t)))
      expect(evalSet.flatMap((r) => r.spans).filter((s) => s.type === type).length).toBeGreaterThanOrEqual(20);
    expect(evalSet.filter((r) => r.spans.length === 0).length).toBeGreaterThanOrEqual(150);
  });
  it('every labelled value occurs in its row (the loader located it)', () => {
    for (const r of evalSet) for (const s of r.spans) expect(r.text.slice(s.start, s.end)).toBe(s.value);
  });
  it('holdout.jsonl: at least 30 rows, written after the fixes, every value in its row', () => {
    const holdout = loadPiiEvalSet(join(dataDir, 'holdout.jsonl'));
    expect(holdout.length).toBeGreaterThanOrEqual(30);
    for (const r of holdout) for (const s of r.spans) expect(r.text.slice(s.start, s.end)).toBe(s.value);
  });
});

// Regression floors at the level measured when they were set (docs/ml.md, "Personal data and secrets"): values found
// may only go up, false positives only down. Raise them when the detector gets better; never lower them to pass.
// Dates of birth and street addresses (claimed since 2026-12-07): dob-address.jsonl, 111 rows written by a separate
// author who did not read the detector. Measured first as it was written (dates 26 / 35, addresses 28 / 37, 2 false
// positives), then the rules were widened on its misses (docs/ml.md says which): from then on it is a dev set for
// these two types, and these floors are the level measured after.
describe('PiiDetector on data/pii-eval/dob-address.jsonl (regression floors)', () => {
  const set = loadPiiEvalSet(join(dataDir, 'dob-address.jsonl'));
  it('holds 30+ dates of birth, 30+ street addresses and 40+ hard negatives, every value in its row', () => {
    const labelled = (type: string): number => set.flatMap((r) => r.spans).filter((s) => s.type === type).length;
    expect(labelled('date_of_birth')).toBeGreaterThanOrEqual(30);
    expect(labelled('street_address')).toBeGreaterThanOrEqual(30);
    expect(set.filter((r) => r.spans.length === 0).length).toBeGreaterThanOrEqual(40);
    for (const r of set) for (const s of r.spans) expect(r.text.slice(s.start, s.end)).toBe(s.value);
  });
  it('finds at least the values measured, with at most the false positives measured', () => {
    const report = evaluatePiiDetector(new PiiDetector(), set);
    const { date_of_birth: dob, street_address: address } = report.perType;
    expect({ dob: dob.found >= 33, dobFalse: dob.falsePositives <= 0 }).toEqual({ dob: true, dobFalse: true });
    expect({ address: address.found >= 34, addressFalse: address.falsePositives <= 2 }).toEqual({
      address: true,
      addressFalse: true,
    });
  });
  // Its 25 person names were labelled when the detector began to claim them (2026-12-07; notes say so). Written for
  // other types, by another author, it is the least fitted measure of the name rules: 9 / 25 and 1 false positive (a law
  // firm on a signature line) as first written, 18 / 25 and none
  // after (a relation before the name, "Insured party:", "Nominativo:", "Full name —" were added on its misses).
  it('person names: at least the values measured, no false positive', () => {
    const { person_name: names } = evaluatePiiDetector(new PiiDetector(), set).perType;
    expect({ found: names.found >= 18, falsePositives: names.falsePositives <= 0 }).toEqual({
      found: true,
      falsePositives: true,
    });
  });
});

// Person names (claimed since 2026-12-07): names.jsonl, 158 rows written before the rules, by their author (docs/ml.md,
// "Person names"). First measured 69 / 80 values with 2 false positives (Dr. Martens, Mr. Robot), once a capture-group
// slip that reported the key instead of the value was fixed; then tuned on its misses and false positives, so it is a
// dev set now, and these floors are the level measured after (71 found, then 70 when German "ich bin" was dropped for
// precision: "Ich bin Software Entwickler").
describe('PiiDetector on data/pii-eval/names.jsonl (regression floors)', () => {
  const set = loadPiiEvalSet(join(dataDir, 'names.jsonl'));
  it('holds 120+ rows, 60+ names, 60+ hard negatives, every value in its row', () => {
    expect(set.length).toBeGreaterThanOrEqual(120);
    expect(set.flatMap((r) => r.spans).filter((s) => s.type === 'person_name').length).toBeGreaterThanOrEqual(60);
    expect(set.filter((r) => r.spans.length === 0).length).toBeGreaterThanOrEqual(60);
    for (const r of set) for (const s of r.spans) expect(r.text.slice(s.start, s.end)).toBe(s.value);
  });
  it('finds at least the names measured, with no false positive and no other type', () => {
    const report = evaluatePiiDetector(new PiiDetector(), set);
    expect({
      found: report.perType.person_name.found >= 70,
      falsePositives: report.overall.falsePositives <= 0,
      wrongType: report.overall.wrongType,
    }).toEqual({ found: true, falsePositives: true, wrongType: 0 });
  });
});

describe('PiiDetector on data/pii-eval (regression floors)', () => {
  const detector = new PiiDetector();
  const floors: Record<PiiType, { found: number; falsePositives: number }> = {
    email: { found: 25, falsePositives: 0 },
    phone: { found: 53, falsePositives: 1 },
    credit_card: { found: 26, falsePositives: 0 },
    iban: { found: 23, falsePositives: 0 },
    // Claimed since 2026-12-08 (data/pii-fourth): the set labels none, and none is found in it.
    bank_account: { found: 0, falsePositives: 0 },
    national_id: { found: 24, falsePositives: 0 },
    ip_address: { found: 23, falsePositives: 2 },
    // 2 until the key rule learnt that a credential's name, header or path is not the credential (api_key_header_name,
    // secret_name; data/pii-everyday).
    secret: { found: 57, falsePositives: 0 },
    // Claimed since 2026-12-07: the set's two dates of birth were labelled then (it holds no street address).
    date_of_birth: { found: 2, falsePositives: 0 },
    street_address: { found: 0, falsePositives: 0 },
    // Claimed since 2026-12-07: the set's four person names were labelled then (rows 3, 42, 363, 369); its
    // placeholders ("Test Person", "Test User") are not names.
    person_name: { found: 4, falsePositives: 0 },
    medical_id: { found: 0, falsePositives: 0 },
  };
  it('eval.jsonl: per type, at least the values found and at most the false positives measured', () => {
    const report = evaluatePiiDetector(detector, loadPiiEvalSet(join(dataDir, 'eval.jsonl')));
    for (const type of PII_TYPES) {
      const { found, falsePositives } = report.perType[type];
      expect({
        type,
        found: found >= floors[type].found,
        falsePositives: falsePositives <= floors[type].falsePositives,
      }).toEqual({
        type,
        found: true,
        falsePositives: true,
      });
    }
    expect(report.overall.wrongType).toBe(0);
    expect(report.leaked).toBeLessThanOrEqual(6);
  });
  it('holdout.jsonl: at least 27 of 30 values found, at most 2 false positives', () => {
    const report = evaluatePiiDetector(detector, loadPiiEvalSet(join(dataDir, 'holdout.jsonl')));
    expect(report.overall.found).toBeGreaterThanOrEqual(27);
    expect(report.overall.falsePositives).toBeLessThanOrEqual(2);
  });
});
