import type { AppConfig } from '@app/config';
import type Tracer from 'dd-trace';
// Deep on purpose: this file runs before dd-trace starts, and the barrel of common loads Nest (instrument.ts).
// eslint-disable-next-line boundaries/lib-imports
import { CUT_AT_SHUTDOWN_STATUS, cutAtShutdown } from '../../../common/src/http/shutdown-cut';
// eslint-disable-next-line boundaries/lib-imports
import { streamFailure } from '../../../common/src/http/stream-failure';
import { boundAgentQueue, silenceLlmObsTelemetry } from './dd-trace-internals';

/**
 * The dd-trace integrations kept on. Each adds information no other span gives: the HTTP server span
 * (named `METHOD /route` and tagged with the route template by our interceptor) and log/trace
 * correlation in pino. Everything else is off: the fastify integration (its hooks on every request added
 * about 0.1 ms and nothing the interceptor does not set), dns, net, fetch/undici per upstream call
 * (the LLM attempt spans cover those)... Every integration costs CPU on each request (bench/RESULTS.md).
 */
export const ENABLED_INTEGRATIONS = ['http', 'pino'] as const;

let initialised = false;

/**
 * At most this many exporter payloads wait for dd-trace's one connection to the agent; newer ones are dropped
 * (`boundAgentQueue`). A reachable agent answers in milliseconds and the queue holds 0-3 (the three writers flush
 * together); an agent that accepts connections and never answers releases one request every 2-5 s while 2-3 a second
 * come: unbounded, 230 waited after 100 s and the count grew until dd-trace's 64 MiB of payloads. 32 is about 12 s of
 * exports.
 */
export const AGENT_QUEUE_MAX = 32;

/** The status of a request whose client closed the connection before the answer (nginx's convention). */
const CLIENT_CLOSED_REQUEST = 499;

type ServerSpan = ReturnType<typeof Tracer.startSpan>;

/** The raw Node request and response as dd-trace's http server hook sees them when the server span ends. */
interface HookRequest {
  method?: string;
  socket?: object;
}
interface HookResponse {
  statusCode?: number;
  writableFinished?: boolean;
}

/**
 * The server span's outcome, at its end (`finishServerSpan`), after dd-trace tagged it with the response's
 * `statusCode` and before its own naming:
 * - A response that closed before it was complete (the client went away: a dropped JSON call, an abandoned stream)
 *   is `http.status_code` 499, or 503 when the server's shutdown cut it (SHUTDOWN_GRACE_MS ran out): what the
 *   interceptor records in `http.request.count` and the request's line. dd-trace would say 200 there, the status a
 *   Node response has before anything is written (or the one a stream's headers carried).
 * - dd-trace's http integration names a server span after its method alone (`GET`) when nothing sets its route. The
 *   interceptor names routed requests (`POST /qa`, and `GET /health` for the routes it skips); a request no route
 *   matched (404, 405), or that was refused before its handler (413 on a body too large), is named after its method
 *   and status: `GET 404`, `POST 413`. Bounded (the raw path never is the resource) and searchable.
 */
function tagServerOutcome(span?: ServerSpan, req?: HookRequest, res?: HookResponse): void {
  if (!span || !req || !res) return;
  let status = res.statusCode ?? 0;
  if (res.writableFinished === false) {
    const cut = cutAtShutdown(req.socket);
    status = cut ? CUT_AT_SHUTDOWN_STATUS : CLIENT_CLOSED_REQUEST;
    span.setTag('http.status_code', String(status));
    if (cut) span.setTag('error', true);
  }
  // A stream that failed after its 200 went out (its error event in the body): an error of the request all the same.
  const failed = streamFailure(req);
  if (failed !== undefined) {
    span.setTag('error', true);
    span.setTag('error.type', failed);
    span.setTag('error.message', `the stream failed after its response began: error event ${failed}`);
  }
  const tags = (span.context() as unknown as { _tags?: Record<string, unknown> })._tags;
  if (!tags || tags['resource.name'] !== undefined || tags['http.route'] !== undefined) return;
  span.setTag('resource.name', `${req.method ?? 'GET'} ${status}`);
}

/** The text sanitizer of `http.url` (set once the app's redactor exists, by DdTracerAdapter); none: left as is. */
let serverUrlSanitizer: ((text: string) => string) | undefined;

/**
 * Makes every HTTP server span's `http.url` go through `sanitize` (the LogSanitizer: PII and secrets redacted,
 * truncated), as every other text the service traces does.
 */
export function sanitizeServerUrls(sanitize: ((text: string) => string) | undefined): void {
  serverUrlSanitizer = sanitize;
}

/** The URL with its percent-escapes decoded (`jane%40example.com` is an e-mail to the redactor), else as is. */
function decodedUrl(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

/**
 * dd-trace tags the server span with the request's URL (`http.url`: its Host, path and query, the query through
 * dd-trace's obfuscation of `token=`/`api_key=`-like parameters only): a key, an e-mail or a card number in a path
 * (`/v1/models/{id}`, `/optimization/recommendations/{id}`, an unknown path) or in a query parameter went to Datadog
 * as sent, and a long path whole. The path and query are replaced by their sanitized text once decoded (redacted,
 * truncated to LOG_TRUNCATE_CHARS) when that differs from it; otherwise the tag is kept as sent.
 */
export function sanitizeServerUrl(span?: ServerSpan): void {
  const sanitize = serverUrlSanitizer;
  if (!span || !sanitize) return;
  const tags = (span.context() as unknown as { _tags?: Record<string, unknown> })._tags;
  // The User-Agent is the caller's text too (a crawler's contact e-mail, up to the 16 KB of headers).
  const agent = tags?.['http.useragent'];
  if (typeof agent === 'string') {
    const cleanAgent = sanitize(agent);
    if (cleanAgent !== agent) span.setTag('http.useragent', cleanAgent);
  }
  const url = tags?.['http.url'];
  if (typeof url !== 'string') return;
  // The origin (`http://10.0.0.7:3000`, from the Host header) is kept: an address there is the service's own.
  const pathAt = url.indexOf('/', url.indexOf('://') + 3);
  if (pathAt < 0) return;
  const path = decodedUrl(url.slice(pathAt));
  const clean = sanitize(path);
  if (clean !== path) span.setTag('http.url', `${url.slice(0, pathAt)}${clean}`);
}

/**
 * The http integration's request hook, at each server span's end: its status when the response closed incomplete,
 * its name when unrouted (`tagServerOutcome`), its URL and User-Agent sanitized (`sanitizeServerUrl`). A throw here
 * would leave the span unfinished and its whole trace unsent: each part is guarded.
 */
export function finishServerSpan(span?: ServerSpan, req?: HookRequest, res?: HookResponse): void {
  try {
    tagServerOutcome(span, req, res);
  } catch {
    // The span keeps dd-trace's own status and name.
  }
  try {
    sanitizeServerUrl(span);
  } catch {
    // Nothing of the caller's text is kept when it could not be sanitized.
    span?.setTag('http.url', undefined);
    span?.setTag('http.useragent', undefined);
  }
}

/**
 * Initialises dd-trace from the validated config. Must run before the application's modules are loaded
 * (see apps/control-plane/src/instrument.ts, loaded with `node --import`). Idempotent.
 */
export function initTracing(config: AppConfig, options: { registerEsmHooks?: boolean } = {}): boolean {
  if (initialised || !config.tracing.enabled) return initialised;
  initialised = true;
  // With `plugins: false` the integrations' hooks are still installed; these wrap calls on every request for
  // integrations that are off or for App Security, which is off: fetch in the SDKs, fs under pino's writes, crypto;
  // fastify's reply headers and hooks, find-my-way's handlers, url's parse and getters (each publishing to channels
  // nobody listens to: about 0.3 % of the CPU under load together, bench/RESULTS.md); net and dns (upstream calls go
  // through undici; no cost measured, nothing gained either). The http server instrumentation stays (the http
  // integration's server span), and pino's (log correlation). dd-trace reads this only from the environment, when it
  // is first loaded: so it is set here, and dd-trace is required just after.
  process.env.DD_TRACE_DISABLED_INSTRUMENTATIONS ??= 'fetch,fs,crypto,fastify,find-my-way,url,net,dns';
  // The tracer's own instrumentation telemetry (counters on every span, a 50 KB report of the app's
  // dependencies at start) costs about 2 % of CPU under load and tells nothing about the LLM calls.
  process.env.DD_INSTRUMENTATION_TELEMETRY_ENABLED ??= 'false';
  // LLM Observability goes through the agent only. Left unset, dd-trace switches to agentless mode when
  // the agent does not answer at start: it then sends to Datadog's intake directly (no key here, and
  // traffic that must not leave the host) and, in our measurements, held ~1 GB of failed payloads under load.
  process.env.DD_LLMOBS_AGENTLESS_ENABLED = 'false';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tracer = require('dd-trace') as typeof Tracer;
  tracer.init({
    service: config.service.name,
    env: config.service.env,
    version: config.service.version,
    url: config.tracing.agentUrl,
    logInjection: true,
    startupLogs: false,
    runtimeMetrics: false,
    plugins: false,
    // The service's own metrics go through hot-shots; the tracer must not open a second DogStatsD client.
    dogstatsd: { hostname: config.statsd.host, port: config.statsd.port },
    llmobs: config.tracing.llmobsEnabled ? { mlApp: config.tracing.mlApp, agentlessEnabled: false } : undefined,
  });
  // LLM Observability counts its spans, annotations and evaluations into instrumentation-telemetry counters even when
  // that telemetry is off: 3.7 % of the CPU under load for counters nobody sends (dd-trace-internals.ts).
  if (process.env.DD_INSTRUMENTATION_TELEMETRY_ENABLED === 'false') silenceLlmObsTelemetry();
  // A trace agent that accepts connections and never answers: what waits for it is bounded (dd-trace-internals.ts).
  boundAgentQueue(AGENT_QUEUE_MAX);
  for (const integration of ENABLED_INTEGRATIONS) {
    if (integration === 'http') tracer.use('http', { server: { hooks: { request: finishServerSpan } }, client: false });
    else tracer.use(integration);
  }
  if (options.registerEsmHooks === true) {
    // dd-trace's loader hooks instrument modules imported through ESM. Off by default: the integrations kept
    // (`http`, a builtin, and `pino`, CommonJS) are instrumented through require, and the hooks made every ESM
    // import of the app (Nest 12 is ESM-only) slower: about 100 ms of each start (tested: the http server span
    // and log correlation are there without them, test/foundation.e2e-spec.ts). Turn them on when enabling an
    // integration for an ESM-only package.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('dd-trace/register.js');
  }
  return true;
}
