import { truncate } from './truncate';

const SECRET_KEY =
  /authorization|cookie|api[-_]?key|apikey|app[-_]?key|secret|password|passwd|token|credential|private[-_]?key|set-cookie/i;
const MAX_DEPTH = 4;
const MAX_ARRAY = 20;
const MAX_KEYS = 50;
/** Object keys are cut to this: a body can carry a key of any length. */
const MAX_KEY_CHARS = 100;

export interface SanitizeOptions {
  /** Strings longer than this are truncated. */
  maxChars: number;
  /** Applied to every string before truncation (PII and secret redaction). */
  redact?: (text: string) => string;
  /**
   * Replaces redact-then-truncate for strings: a function that reads only what it keeps (LogSanitizer's), so a
   * megabyte string costs what its first characters cost.
   */
  text?: (text: string) => string;
}

/**
 * Makes a value safe and small enough to log: secret-looking keys masked, strings redacted and truncated,
 * arrays cut to 20 items, objects to 50 keys and 4 levels.
 */
export function sanitizeForLog(value: unknown, options: SanitizeOptions, depth = 0): unknown {
  if (typeof value === 'string') {
    if (options.text) return options.text(value);
    return truncate(options.redact ? options.redact(value) : value, options.maxChars);
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[depth limit]';
  if (Array.isArray(value)) {
    const head = value.slice(0, MAX_ARRAY).map((item) => sanitizeForLog(item, options, depth + 1));
    if (value.length > MAX_ARRAY) head.push(`[+${value.length - MAX_ARRAY} items]`);
    return head;
  }
  const out: Record<string, unknown> = {};
  let count = 0;
  for (const [key, item] of Object.entries(value)) {
    if (count++ >= MAX_KEYS) {
      out['…'] = '[more keys]';
      break;
    }
    const raw = key.length > MAX_KEY_CHARS ? truncate(key, MAX_KEY_CHARS) : key;
    out[keyForLog(key, options)] = SECRET_KEY.test(raw) ? '[redacted]' : sanitizeForLog(item, options, depth + 1);
  }
  return out;
}

/**
 * An object key as logged: redacted like a string value, then cut. A key is text from the request like any other
 * (`{"lrcp_live_...": 1}`, a map keyed by e-mail address): it was written as sent, so a key or a configured secret
 * sent as a body's key reached the log line whole.
 */
function keyForLog(key: string, options: SanitizeOptions): string {
  const redacted = options.text ? options.text(key) : options.redact ? options.redact(key) : key;
  return redacted.length > MAX_KEY_CHARS ? truncate(redacted, MAX_KEY_CHARS) : redacted;
}
