import { Injectable } from '@nestjs/common';
import { scrubKnownSecrets, TextRedactor } from '@app/common';
import { PiiDetector } from './pii-detector';

/**
 * The service-wide TextRedactor: every log line, span tag, LLM Observability record and incident text
 * goes through it (TelemetryModule.forRoot({ textRedactor: PiiTextRedactor })).
 */
@Injectable()
export class PiiTextRedactor extends TextRedactor {
  constructor(private readonly detector: PiiDetector) {
    super();
  }

  redact(text: string): string {
    return this.detector.redact(scrubKnownSecrets(text));
  }
}
