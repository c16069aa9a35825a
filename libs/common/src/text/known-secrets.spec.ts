import { Secret } from '@app/config';
import { growthRatio } from '../../../../test/support/growth';
import { BasicTextRedactor, scrubKnownSecrets } from './text-redactor';

describe('configured secret values are scrubbed from text, whatever their shape', () => {
  // A self-hosted server's key: no pattern of BASIC_PATTERNS matches it.
  const value = 'plain9Secret4Value7OfAnyShape';
  new Secret(value);

  it('scrubKnownSecrets replaces every occurrence', () => {
    expect(scrubKnownSecrets(`upstream said: invalid key ${value} (${value})`)).toBe(
      'upstream said: invalid key [REDACTED:SECRET] ([REDACTED:SECRET])',
    );
  });

  it('the basic redactor does it before its patterns; short values are left alone', () => {
    new Secret('short');
    expect(new BasicTextRedactor().redact(`key=${value} short`)).toBe('key=[REDACTED:SECRET] short');
  });
});

describe('BasicTextRedactor patterns', () => {
  it("masks the service's own API keys, not names built from its prefix", () => {
    const key = 'lrcp_dev_wKnttrvfM_r_eOaXjUYw8uZLiPkm1EQIIhxKdm_o8JQ';
    expect(new BasicTextRedactor().redact(`here is my key ${key} please rotate, lrcp_live_4f9a8b7c6d5e4f3a2b1c`)).toBe(
      'here is my key [REDACTED:API_KEY] please rotate, [REDACTED:API_KEY]',
    );
    const names = 'lrcp_dev_ lrcp_dev_key_prefix LRCP_API_KEY urn:lrcp:problem:forbidden';
    expect(new BasicTextRedactor().redact(names)).toBe(names);
  });

  it('masks e-mail addresses, in linear time on a long run of address characters (was quadratic)', () => {
    const redactor = new BasicTextRedactor();
    expect(redactor.redact('mail jane.doe+x@example.co.uk, a.b@c.io')).toBe('mail [REDACTED:EMAIL], [REDACTED:EMAIL]');
    const texts = new Map([4000, 32_000].map((n) => [n, `${'a_'.repeat(n / 2)} done`]));
    // 8 times the text: about 8 times the time when linear, 64 times when quadratic.
    expect(growthRatio((n) => redactor.redact(texts.get(n)!), 4000, 32_000)).toBeLessThan(24);
  });

  it('masks lrcp_ keys in linear time on a run of lrcp_ without a key (was quadratic: 200 KB took 16 s)', () => {
    const redactor = new BasicTextRedactor();
    // Each lrcp_ of the run starts a key candidate; a digit or a capital anywhere after it makes the whole run a key.
    expect(redactor.redact('lrcp_lrcp_lrcp_lrcp_lrcp_ and lrcp_lrcp_lrcp_lrcp_Key9')).toBe(
      'lrcp_lrcp_lrcp_lrcp_lrcp_ and [REDACTED:API_KEY]',
    );
    expect(redactor.redact('mylrcp_Zq8xLm2Np5Rt7Vw9xx -lrcp_Zq8xLm2Np5Rt7Vw9xx')).toBe(
      'mylrcp_Zq8xLm2Np5Rt7Vw9xx -[REDACTED:API_KEY]',
    );
    const texts = new Map([4000, 32_000].map((n) => [n, `${'lrcp_'.repeat(n / 5)} done`]));
    // 8 times the text: about 8 times the time when linear, 64 times when quadratic.
    expect(growthRatio((n) => redactor.redact(texts.get(n)!), 4000, 32_000)).toBeLessThan(24);
  });
});
