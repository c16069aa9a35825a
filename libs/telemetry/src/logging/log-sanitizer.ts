import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { sanitizeForLog, TextRedactor, truncate } from '@app/common';

/**
 * Characters read past the truncation point before redacting, so that an item crossing it (a card number,
 * an e-mail, a key) is still recognised whole and never leaks half-masked. Longer texts are not redacted
 * past this window: what is cut is never written.
 */
export const REDACTION_MARGIN_CHARS = 256;
/** How far the window may grow (doubling) when redaction shortens it: 64 times, 29,184 characters by default. */
const MAX_WINDOW_FACTOR = 64;
/** Recent results kept, so the same prompt or answer going to the span and the log line is redacted once. */
const MEMO_SIZE = 64;

/**
 * The one way text reaches a log line, a span tag or an LLM Observability record: PII and secrets
 * redacted, then truncated to LOG_TRUNCATE_CHARS.
 */
@Injectable()
export class LogSanitizer {
  readonly maxChars: number;
  private readonly textFn: (text: string) => string;
  private readonly memo = new Map<string, string>();

  constructor(
    config: AppConfig,
    private readonly redactor: TextRedactor,
  ) {
    this.maxChars = config.log.truncateChars;
    this.textFn = (text) => this.redactHead(text, this.maxChars);
  }

  /** Redacted and truncated text; only the first maxChars + REDACTION_MARGIN_CHARS are ever read. */
  text(value: string, maxChars = this.maxChars): string {
    if (maxChars !== this.maxChars) return this.redactHead(value, maxChars);
    let out = this.memo.get(value);
    if (out === undefined) {
      out = this.redactHead(value, maxChars);
      if (this.memo.size >= MEMO_SIZE) this.memo.clear();
      this.memo.set(value, out);
    }
    return out;
  }

  /** A redacted, truncated, size-bounded copy of any value (request bodies, metadata). */
  value(value: unknown): unknown {
    return sanitizeForLog(value, { maxChars: this.maxChars, text: this.textFn });
  }

  /**
   * Redacts a window of the text's head and keeps what is safe to write of it. The last REDACTION_MARGIN_CHARS of
   * the redacted window are never written while text is left unread: an item cut by the window's end (half a JWT,
   * the start of a card number) is not recognised, and is written as it is. Redaction shortens the window (a
   * 300-character token becomes `[REDACTED:SECRET]`), so the window doubles until its redacted text reaches past
   * maxChars by the margin, or up to MAX_WINDOW_FACTOR times; past that, fewer than maxChars are written.
   */
  private redactHead(value: string, maxChars: number): string {
    const first = maxChars + REDACTION_MARGIN_CHARS;
    for (let window = first; ; window *= 2) {
      if (value.length <= window) return truncate(this.redactor.redact(value), maxChars);
      const end = pairSafeEnd(value, window);
      const head = this.redactor.redact(value.slice(0, end));
      const safe = head.length - REDACTION_MARGIN_CHARS;
      if (safe < maxChars && window < first * MAX_WINDOW_FACTOR) continue;
      const keep = pairSafeEnd(head, Math.max(0, Math.min(maxChars, safe)));
      return `${head.slice(0, keep)}…[+${head.length - keep + value.length - end} chars]`;
    }
  }
}

/** `end`, or one less when the character before it is the first half of a surrogate pair: a cut never splits a pair. */
function pairSafeEnd(text: string, end: number): number {
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}
