import type { AppConfig } from '@app/config';
import type { Params } from 'nestjs-pino';
import pino from 'pino';

/** Header and field paths that never reach a log line. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["dd-api-key"]',
  'req.headers["dd-application-key"]',
  'req.headers["x-goog-api-key"]',
  'res.headers["set-cookie"]',
];
// Bodies and metadata are masked before they are logged (sanitizeForLog masks secret-like keys at any depth),
// so no wildcard paths here: pino's redaction cost grows with them on every line.

/**
 * nestjs-pino options: JSON lines with unified service tags, trace ids injected by dd-trace
 * (logInjection: `dd.trace_id`, `dd.span_id`), secrets redacted, written to `destination` (the service's
 * is LogDestination: asynchronous, batched, bounded).
 * pino-http's own per-request line is off: the telemetry interceptor writes one line per call.
 */
export function loggerOptions(config: AppConfig, destination: pino.DestinationStream): Params {
  return {
    pinoHttp: [
      {
        level: config.log.level,
        base: { service: config.service.name, env: config.service.env, version: config.service.version },
        messageKey: 'message',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label: string) => ({ level: label, status: label }) },
        redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
        autoLogging: false,
        quietReqLogger: true,
        customProps: () => ({}),
        serializers: {
          req: (req: { method?: string; url?: string }) => ({ method: req.method, path: req.url?.split('?')[0] }),
          res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        },
      },
      destination,
    ],
  };
}
