import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { sanitizeForLog, TextRedactor, truncate } from '@app/common';

/**
 * The one way text reaches a log line, a span tag or an LLM Observability record: PII and secrets
 * redacted, then truncated to LOG_TRUNCATE_CHARS.
 */
@Injectable()
export class LogSanitizer {
  readonly maxChars: number;
  private readonly redactFn: (text: string) => string;

  constructor(
    config: AppConfig,
    private readonly redactor: TextRedactor,
  ) {
    this.maxChars = config.log.truncateChars;
    this.redactFn = (text) => this.redactor.redact(text);
  }

  /** Redacted and truncated text. */
  text(value: string, maxChars = this.maxChars): string {
    return truncate(this.redactor.redact(value), maxChars);
  }

  /** A redacted, truncated, size-bounded copy of any value (request bodies, metadata). */
  value(value: unknown): unknown {
    return sanitizeForLog(value, { maxChars: this.maxChars, redact: this.redactFn });
  }
}
