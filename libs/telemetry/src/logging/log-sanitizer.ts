import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { sanitizeForLog, TextRedactor, truncate } from '@app/common';

/**
 * Characters read past the truncation point before redacting, so that an item crossing it (a card number,
 * an e-mail, a key) is still recognised whole and never leaks half-masked. Longer texts are not redacted
 * past this window: what is cut is never written.
 */
export const REDACTION_MARGIN_CHARS = 256;
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

  private redactHead(value: string, maxChars: number): string {
    const window = maxChars + REDACTION_MARGIN_CHARS;
    if (value.length <= window) return truncate(this.redactor.redact(value), maxChars);
    const head = this.redactor.redact(value.slice(0, window));
    const unread = value.length - window;
    if (head.length <= maxChars) return `${head}…[+${unread} chars]`;
    let end = maxChars;
    const code = head.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end -= 1; // never split a surrogate pair
    return `${head.slice(0, end)}…[+${head.length - end + unread} chars]`;
  }
}
