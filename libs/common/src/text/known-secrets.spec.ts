import { Secret } from '@app/config';
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
