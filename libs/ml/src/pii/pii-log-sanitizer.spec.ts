import { BasicTextRedactor } from '@app/common';
import { Secret } from '@app/config';
import { LogSanitizer, REDACTION_MARGIN_CHARS } from '@app/telemetry';
import { testConfig } from '../../../../test/support/app-config';
import { PiiDetector } from './pii-detector';
import { PiiTextRedactor } from './pii-text-redactor';

describe('LogSanitizer', () => {
  const config = testConfig({ LOG_TRUNCATE_CHARS: '200' });

  it('redacts and truncates, counting every character cut', () => {
    const sanitizer = new LogSanitizer(config, new PiiTextRedactor(new PiiDetector()));
    const long = `mail me at jane.doe@example.com ${'x'.repeat(5000)}`;
    const out = sanitizer.text(long);
    expect(out).not.toContain('jane.doe@example.com');
    expect(out.startsWith('mail me at ')).toBe(true);
    const [kept, marker] = out.split('…[+');
    expect(kept!.length).toBe(200);
    // kept + cut = the redacted length of the whole text (the e-mail replaced by its mask)
    const redactedWhole = new PiiTextRedactor(new PiiDetector()).redact(long);
    expect(kept!.length + Number(marker!.replace(' chars]', ''))).toBe(redactedWhole.length);
  });

  it('recognises an item crossing the truncation point whole, never half-masked', () => {
    const sanitizer = new LogSanitizer(config, new PiiTextRedactor(new PiiDetector()));
    const card = '4111 1111 1111 1111';
    const text = `${'a '.repeat(96)}card ${card} ${'b'.repeat(REDACTION_MARGIN_CHARS * 4)}`;
    const out = sanitizer.text(text);
    expect(out.split('…[+')[0]).not.toMatch(/\d/); // not even the first digits of the number
  });

  it('never writes the part of a token that the window cut, when redaction shortened the window', () => {
    // Three JWTs of ~320 characters: the first 456 read held one whole (redacted to 17 characters) and the start of
    // the second, which was not recognised and was written: its header and the first claims of its payload.
    const sanitizer = new LogSanitizer(config, new PiiTextRedactor(new PiiDetector()));
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = (n: number) =>
      `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: `user-${n}`, email: `jane.doe${n}@example.com`, roles: ['admin', 'billing', 'support'], org: 'acme-corporation-international', exp: 1900000000 })}.${'S'.repeat(43)}`;
    const tokens = [jwt(1), jwt(2), jwt(3)];
    const out = sanitizer.text(
      `Why is this rejected? ${tokens[0]} ; the refresh one is ${tokens[1]} ; a third ${tokens[2]}`,
    );
    expect(out).not.toContain('eyJ');
    expect(out.startsWith('Why is this rejected? [REDACTED:SECRET] ; the refresh one is [REDACTED:SECRET]')).toBe(true);
  });

  it('never splits a surrogate pair where the window ends, when redaction shortened the window', () => {
    // The window (456 characters) ends on the first half of an emoji and the redacted head fits in 200 characters:
    // the whole head was written, ending with a lone surrogate (not valid UTF-8 once in a JSON log line).
    const sanitizer = new LogSanitizer(config, new PiiTextRedactor(new PiiDetector()));
    let text = '';
    while (text.length < 400) text += 'firstname.lastname.department.longer@example.com ';
    text = text.slice(0, 200 + REDACTION_MARGIN_CHARS - 1) + '😀'.repeat(40);
    expect(text.charCodeAt(200 + REDACTION_MARGIN_CHARS - 1)).toBe(0xd83d);
    const out = sanitizer.text(text);
    expect(out.isWellFormed()).toBe(true);
    expect(out).toContain('[REDACTED:EMAIL]');
    expect(out).not.toContain('@example.com');
  });

  it('grows the window a bounded number of times, however much redaction shortens it', () => {
    const seen: number[] = [];
    const counting = new (class extends BasicTextRedactor {
      override redact(text: string): string {
        seen.push(text.length);
        return super.redact(text);
      }
    })();
    const sanitizer = new LogSanitizer(config, counting);
    const out = sanitizer.text('-----BEGIN PRIVATE KEY-----\n' + 'A'.repeat(1_000_000));
    expect(out).not.toContain('AAAA'); // past the last window, nothing of its redacted tail is written
    // doubling from 456 characters up to 64 times that: at most 7 reads, twice the last at most in all
    expect(seen.length).toBeLessThanOrEqual(7);
    expect(seen.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 * 64 * (200 + REDACTION_MARGIN_CHARS));
  });

  it('reads only the window: the redactor never sees the part that is cut', () => {
    const seen: number[] = [];
    const counting = new (class extends BasicTextRedactor {
      override redact(text: string): string {
        seen.push(text.length);
        return super.redact(text);
      }
    })();
    const sanitizer = new LogSanitizer(config, counting);
    sanitizer.text('y'.repeat(100_000));
    expect(seen).toEqual([200 + REDACTION_MARGIN_CHARS]);
  });

  it('reads only the window of every string of a logged body too, and cuts long keys', () => {
    const seen: number[] = [];
    const counting = new (class extends BasicTextRedactor {
      override redact(text: string): string {
        seen.push(text.length);
        return super.redact(text);
      }
    })();
    const sanitizer = new LogSanitizer(config, counting);
    const body = { question: 'y'.repeat(1_000_000), nested: { ['k'.repeat(5000)]: 'short' } };
    const logged = sanitizer.value(body) as { question: string; nested: Record<string, string> };
    expect(Math.max(...seen)).toBeLessThanOrEqual(200 + REDACTION_MARGIN_CHARS);
    expect(logged.question).toMatch(/…\[\+999800 chars\]$/);
    const [key] = Object.keys(logged.nested);
    expect(key!.length).toBeLessThan(130);
    expect(logged.nested[key!]).toBe('short');
  });

  it("redacts a logged body's keys too: a key, a configured secret or an address sent as an object key", () => {
    const secret = 'ddSelfHosted7Secret4NoShape9';
    new Secret(secret);
    const apiKey = 'lrcp_live_Zq8xLm2Np5Rt7Vw9Bc3Df5Gh';
    for (const redactor of [new PiiTextRedactor(new PiiDetector()), new BasicTextRedactor()]) {
      const sanitizer = new LogSanitizer(config, redactor);
      const body = { question: 'hi', [apiKey]: 1, nested: { [secret]: 2, 'jane.doe@example.com': 3 } };
      const logged = JSON.stringify(sanitizer.value(body));
      for (const leaked of [apiKey, secret, 'jane.doe@example.com']) expect(logged).not.toContain(leaked);
      expect(logged).toContain('"question":"hi"');
    }
  });

  it('redacts the same text once when the span and the log line both take it', () => {
    let calls = 0;
    const counting = new (class extends BasicTextRedactor {
      override redact(text: string): string {
        calls += 1;
        return super.redact(text);
      }
    })();
    const sanitizer = new LogSanitizer(config, counting);
    const prompt = 'what is the capital of France?';
    expect(sanitizer.text(prompt)).toBe(sanitizer.text(prompt));
    expect(calls).toBe(1);
    sanitizer.text(prompt, 10);
    expect(calls).toBe(2);
  });
});
