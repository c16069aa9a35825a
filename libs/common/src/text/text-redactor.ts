import { knownSecretValues } from '@app/config';
/**
 * Port: removes personal data and secrets from text before the service writes it anywhere (logs, spans,
 * LLM Observability). The default implementation masks secrets and obvious contact data; the
 * ML library binds a full PII detector in its place.
 */
export abstract class TextRedactor {
  abstract redact(text: string): string;
}

/**
 * A run that may be one of this service's own API keys (`lrcp_dev_...`, `lrcp_live_...`): `lrcp_` at the start of a
 * run of key characters, then at least 16 of them. It is one when the rest holds a digit or a capital
 * (`lrcpKeyShaped`): `lrcp_dev_` alone or a snake_case name (`lrcp_dev_key_prefix`) is not. That test is made on the
 * match, not by a lookahead in the pattern: the lookahead rescanned the run to its end from each `lrcp_` in it, so
 * `lrcp_lrcp_lrcp_...` was quadratic (200 KB in a chat message blocked the event loop for 16 s, 1 MB for minutes).
 * Tested on the whole run, as the lookahead was: a later `lrcp_` in the run sees only a part of the same run.
 */
export const LRCP_KEY_RUN = /(?<![A-Za-z0-9])lrcp_[A-Za-z0-9_-]{16,}/g;

/** Whether a run matched by `LRCP_KEY_RUN` is shaped like a key: a digit or a capital after its `lrcp_`. */
export function lrcpKeyShaped(run: string): boolean {
  return /[0-9A-Z]/.test(run.slice('lrcp_'.length));
}

const BASIC_PATTERNS: ReadonlyArray<[RegExp, string | ((match: string) => string)]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[REDACTED:PRIVATE_KEY]'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, '[REDACTED:JWT]'],
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [REDACTED:TOKEN]'],
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '[REDACTED:AWS_KEY]'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, '[REDACTED:GOOGLE_API_KEY]'],
  [/\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}\b/g, '[REDACTED:API_KEY]'],
  // This service's own keys (lrcp_dev_..., lrcp_live_...), as PiiDetector finds them.
  [new RegExp(LRCP_KEY_RUN), (run) => (lrcpKeyShaped(run) ? '[REDACTED:API_KEY]' : run)],
  [/\b(gh[pousr]_[A-Za-z0-9]{30,}|xox[baprs]-[A-Za-z0-9-]{10,})\b/g, '[REDACTED:TOKEN]'],
  // From the first character of a run only (the lookbehind, as PiiDetector's): tried from each character of a long
  // run of name characters without an @, the match was quadratic.
  [/(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '[REDACTED:EMAIL]'],
];

/** Replaces every secret value the process holds (`knownSecretValues`, from the configuration) by a marker. */
export function scrubKnownSecrets(text: string): string {
  let out = text;
  for (const value of knownSecretValues()) if (out.includes(value)) out = out.replaceAll(value, '[REDACTED:SECRET]');
  return out;
}

/**
 * Masks the configured secret values, then secrets (keys, tokens, JWTs, private keys) and e-mail addresses with
 * fixed patterns.
 */
export class BasicTextRedactor extends TextRedactor {
  redact(text: string): string {
    let out = scrubKnownSecrets(text);
    for (const [pattern, replacement] of BASIC_PATTERNS) {
      out = typeof replacement === 'string' ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
    }
    return out;
  }
}
