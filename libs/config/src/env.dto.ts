import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  isURL,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
} from 'class-validator';

/** Names of variables whose values are secrets: never printed, not even in a validation error. */
export const SECRET_VARIABLES = new Set([
  'DD_API_KEY',
  'DD_APP_KEY',
  'GEMINI_API_KEY',
  'OPENAI_API_KEY',
  'DATABASE_URL',
  'INCIDENTS_WEBHOOK_SECRET',
  'API_KEYS',
  'DD_RUM_CLIENT_TOKEN',
]);

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
/** Decimal notation only: `Number()` also reads `0x10` as 16 and `0b11` as 3, which no one means by a budget. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && DECIMAL.test(value.trim()) && Number.isFinite(Number(value)) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};
const blankToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const requiredWhen = new Map<string, string>();

/**
 * The condition under which a variable without a default is required (`LLM_PROVIDER=gemini` for GEMINI_API_KEY), for
 * the message when it is missing; undefined for the others.
 */
export function requiredCondition(name: string): string | undefined {
  return requiredWhen.get(name);
}

/**
 * Required, and validated by the decorators below it, when `variable` is `value` (and, with `orWhenSet`, whenever it
 * is set); otherwise ignored. The condition is recorded for the message:
 * "GEMINI_API_KEY: required when LLM_PROVIDER=gemini".
 */
function RequiredWhen(variable: keyof EnvDto, value: string, options: { orWhenSet?: boolean } = {}): PropertyDecorator {
  return (target, property) => {
    const name = String(property);
    requiredWhen.set(name, `${variable}=${value}`);
    ValidateIf(
      (env: EnvDto) =>
        env[variable] === value ||
        (options.orWhenSet === true && (env as unknown as Record<string, unknown>)[name] !== undefined),
    )(target, name);
  };
}

/**
 * A key sent as an HTTP header value (`Authorization`, `DD-API-KEY`, `x-goog-api-key`): printable ASCII, one token.
 * A line break inside (two keys pasted), a space or a typographic quote would make every call fail at the client
 * ("invalid authorization header") while the start and readiness said all was well. The value is already trimmed.
 */
const HeaderKey = (): PropertyDecorator =>
  Matches(/^[\x21-\x7e]+$/, {
    message: ({ property }) =>
      `${property} must be printable ASCII without spaces or line breaks: it is sent in an HTTP header`,
  });

const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };
/** An http(s) URL, said in those words when it is not one (`localhost:11434` lacks its scheme). */
const HttpUrl = (also = ''): PropertyDecorator =>
  IsUrl(URL_OPTIONS, { message: ({ property }) => `${property} must be an http:// or https:// URL${also}` });
/** A unix domain socket as the Datadog libraries write it: `unix://` and an absolute path (`unix:///var/run/datadog/apm.socket`). */
export const UNIX_SOCKET_URL = /^unix:\/\/(\/[^\0\s]+)$/;
/** The trace agent: an http(s) URL, or the unix socket Datadog's Kubernetes admission controller injects. */
const AgentUrl = (): PropertyDecorator =>
  ValidateBy({
    name: 'isAgentUrl',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && (isURL(value, URL_OPTIONS) || UNIX_SOCKET_URL.test(value)),
      defaultMessage: (args) =>
        `${args?.property ?? 'the variable'} must be an http:// or https:// URL, or unix:// and the socket's absolute path (unix:///var/run/datadog/apm.socket)`,
    },
  });
/** DogStatsD's address as Datadog's libraries take it: `udp://host:port`, or a unix datagram socket. */
export const UDP_URL = /^udp:\/\/([a-z0-9_.-]+|\[[0-9a-f:.]+\]):(\d{1,5})$/i;
/** A rule whose reason is said in words, not as the regular expression it is checked with. */
const Pattern = (pattern: RegExp, what: string): PropertyDecorator =>
  Matches(pattern, { message: ({ property }) => `${property} must be ${what}` });
const UNIFIED_TAG = 'letters, digits and _ . - / only, starting with a letter or a digit (a Datadog tag value)';
const MODEL_ID = 'a model id: letters, digits and _ . - : / @ only, no spaces';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LLM_PROVIDERS = ['simulated', 'vertex', 'gemini', 'openai'] as const;
export type LlmProviderName = (typeof LLM_PROVIDERS)[number];

/**
 * Every environment variable the service reads, with its rule and default. This class is the only
 * description of the environment; `loadConfig` validates it once at boot and maps it to `AppConfig`.
 */
export class EnvDto {
  // --- HTTP server ---
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsString() @MinLength(1) HOST = '127.0.0.1';
  @Transform(toInt) @IsInt() @Min(1024) @Max(100 * 1024 * 1024) BODY_LIMIT_BYTES = 1024 * 1024;
  @Transform(toInt) @IsInt() @Min(0) @Max(600_000) SHUTDOWN_GRACE_MS = 10_000;
  /** The whole request (headers and body) must arrive within this; else 408 and the connection is closed. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(600_000) HTTP_REQUEST_TIMEOUT_MS = 30_000;
  /** A streamed answer (SSE) writes a `: ping` comment after this long without a write; 0: none. */
  @Transform(toInt) @IsInt() @Min(0) @Max(600_000) SSE_KEEPALIVE_MS = 15_000;
  /** A streamed answer's client that takes nothing for this long while events wait for it is cut (499). */
  @Transform(toInt) @IsInt() @Min(100) @Max(600_000) SSE_WRITE_TIMEOUT_MS = 30_000;

  // --- security (docs/security.md) ---
  /** API keys: `<name>:<scopes>:<sha256 hex of the key>`, comma-separated; scopes `+`-joined from invoke, read, admin. */
  @IsOptional() @Transform(blankToUndefined) @IsString() @MaxLength(100_000) API_KEYS?: string;
  /** A file of API key entries, one per line (`#` comments); merged with API_KEYS. */
  @IsOptional() @Transform(blankToUndefined) @IsString() @MaxLength(4096) API_KEYS_FILE?: string;
  /** Local development only: every route open to anyone who reaches the port (a warning at boot and in /health/ready). */
  @Transform(toBool) @IsBoolean() AUTH_DISABLED = false;
  /** Paths open without a key: `none`, or a subset of /health, /health/ready, /docs, /docs-json, /docs-yaml, /openapi.json. */
  @IsString() @MaxLength(1000) AUTH_OPEN_PATHS = '/health,/health/ready,/docs,/docs-json,/docs-yaml,/openapi.json,/ui';
  /** Requests per minute per API key (token bucket, per replica); 0: no limit. */
  @Transform(toInt) @IsInt() @Min(0) @Max(1_000_000) RATE_LIMIT_PER_MINUTE = 600;
  /** Requests per minute per client IP without a (valid) key, per replica; 0: no limit. */
  @Transform(toInt) @IsInt() @Min(0) @Max(1_000_000) RATE_LIMIT_ANONYMOUS_PER_MINUTE = 120;
  /** Origins allowed by CORS, comma-separated (`https://app.example.com`, or `*`); empty: CORS off. */
  @IsString() @MaxLength(4000) CORS_ORIGINS = '';
  /** Proxies in front of the service whose X-Forwarded-For is trusted for the client IP (0: none). */
  @Transform(toInt) @IsInt() @Min(0) @Max(10) TRUST_PROXY_HOPS = 0;

  // --- logging ---
  @IsIn(LOG_LEVELS) LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';
  @Transform(toInt) @IsInt() @Min(16) @Max(100_000) LOG_TRUNCATE_CHARS = 200;
  /** Log bytes gathered before one write to stdout (0: each line as it comes); flushed every 250 ms anyway. */
  @Transform(toInt) @IsInt() @Min(0) @Max(16_000) LOG_BUFFER_BYTES = 8192;
  /** Log bytes held while stdout is not keeping up; lines beyond are dropped and counted (log.dropped.count). */
  @Transform(toInt) @IsInt() @Min(65_536) @Max(1_073_741_824) LOG_MAX_BACKLOG_BYTES = 16_777_216;

  // --- Datadog unified service tagging and agent ---
  @IsString() @Pattern(/^[a-z0-9][a-z0-9_.\-/]*$/i, UNIFIED_TAG) @MaxLength(100) DD_SERVICE =
    'llm-reliability-control-plane';
  @IsString() @Pattern(/^[a-z0-9][a-z0-9_.\-/]*$/i, UNIFIED_TAG) @MaxLength(100) DD_ENV = 'local';
  @IsOptional() @Transform(blankToUndefined) @IsString() @MaxLength(100) DD_VERSION?: string;
  /** A host name or an IP address: a URL or a port here (the port is DD_DOGSTATSD_PORT) resolved to nothing. */
  @IsString()
  @Pattern(
    /^([a-z0-9_.-]+|\[?[0-9a-f:.]+\]?)$/i,
    'a host name or an IP address (no scheme, no port: see DD_DOGSTATSD_PORT)',
  )
  DD_AGENT_HOST = '127.0.0.1';
  @Transform(toInt) @IsInt() @Min(1) @Max(65535) DD_DOGSTATSD_PORT = 8125;
  /**
   * DogStatsD's address as one URL, Datadog's convention (its admission controller injects it): `unix:///path` for the
   * agent's datagram socket, or `udp://host:port`. Set, it wins over DD_AGENT_HOST and DD_DOGSTATSD_PORT.
   */
  @IsOptional()
  @Transform(blankToUndefined)
  @Pattern(
    new RegExp(`${UDP_URL.source}|${UNIX_SOCKET_URL.source}`, 'i'),
    "udp://host:port, or unix:// and the socket's absolute path (unix:///var/run/datadog/dsd.socket)",
  )
  DD_DOGSTATSD_URL?: string;
  @AgentUrl() DD_TRACE_AGENT_URL = 'http://127.0.0.1:8126';
  @Transform(toBool) @IsBoolean() DD_TRACE_ENABLED = true;
  @Transform(toBool) @IsBoolean() DD_LLMOBS_ENABLED = true;
  @IsOptional() @Transform(blankToUndefined) @IsString() @MaxLength(100) DD_LLMOBS_ML_APP?: string;
  /** Share of LLM calls recorded in LLM Observability (their spans and evaluations); the rest keep APM spans. */
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) LLMOBS_SAMPLE_RATE = 1;
  /**
   * Which LLM Observability calls (within LLMOBS_SAMPLE_RATE) have their events built and sent, decided when each call
   * ends: `all`, or `interesting` (errors, retries, fallbacks, low quality, PII or injection, slow, abandoned) plus
   * LLMOBS_KEEP_SHARE of the rest. APM spans are kept either way.
   */
  @IsIn(['all', 'interesting']) LLMOBS_KEEP: 'all' | 'interesting' = 'interesting';
  /** Share (0..1) of the unremarkable calls kept in LLM Observability with LLMOBS_KEEP=interesting. */
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) LLMOBS_KEEP_SHARE = 0.1;
  /**
   * At most this many calls a second kept in LLM Observability for being slow or for LLMOBS_KEEP_SHARE (the reasons
   * that grow with load; errors, retries, fallbacks, flags and low quality are always kept); 0: no limit.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(100_000) LLMOBS_KEEP_MAX_PER_S = 20;
  @Transform(toInt) @IsInt() @Min(0) @Max(60_000) STATSD_FLUSH_INTERVAL_MS = 1000;
  @Transform(toInt) @IsInt() @Min(0) @Max(65_000) STATSD_MAX_BUFFER_BYTES = 8192;
  /** How often the process's own gauges (event loop, memory, GC) are sent; 0 turns them off. */
  @Transform(toInt) @IsInt() @Min(0) @Max(600_000) RUNTIME_METRICS_INTERVAL_MS = 10_000;
  /**
   * After this many ms with the event loop idle, a process whose RSS grew since the last release runs one
   * memory-reducing full collection that hands the freed heap back to the OS (needs node --expose-gc, as
   * `npm start` runs it); 0 turns it off. 30 s, not less: the calls after a release cost more CPU for a while
   * (1.25-1.5x in 3 s slices, bench/RESULTS.md), so traffic with short pauses between bursts must not pay it.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(3_600_000) MEMORY_RELEASE_IDLE_MS = 30_000;

  // --- Datadog API ---
  @IsOptional() @Transform(blankToUndefined) @IsString() @MinLength(8) @HeaderKey() DD_API_KEY?: string;
  @IsOptional() @Transform(blankToUndefined) @IsString() @MinLength(8) @HeaderKey() DD_APP_KEY?: string;
  @IsString()
  @Pattern(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'a Datadog site such as datadoghq.eu or us5.datadoghq.com (no scheme)')
  DD_SITE = 'datadoghq.com';
  /** Datadog RUM on the control room page (/ui, docs/control-room.md): the RUM application's id. Both or neither. */
  @IsOptional()
  @Transform(blankToUndefined)
  @Pattern(/^[a-z0-9-]{8,64}$/i, 'a RUM application id (8 to 64 letters, digits and -)')
  DD_RUM_APPLICATION_ID?: string;
  /** The RUM application's client token (public in the page, but never logged). Both or neither. */
  @IsOptional()
  @Transform(blankToUndefined)
  @Pattern(/^[a-z0-9]{8,64}$/i, 'a RUM client token (8 to 64 letters and digits)')
  DD_RUM_CLIENT_TOKEN?: string;
  @IsOptional() @Transform(blankToUndefined) @HttpUrl() DATADOG_API_URL?: string;
  /** Base URL of the Datadog web app, for links in incidents and runbooks (default https://app.<DD_SITE>). */
  @IsOptional() @Transform(blankToUndefined) @HttpUrl() DATADOG_APP_URL?: string;
  /** Id of the provisioned dashboard (printed by `npm run datadog:apply`); links go to a dashboard search without it. */
  @IsOptional()
  @Transform(blankToUndefined)
  @Pattern(/^[a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3}$/, 'a dashboard id such as abc-def-ghi')
  DATADOG_DASHBOARD_ID?: string;
  /** Notification handles added to monitors and incidents, comma-separated (`@slack-llm-oncall,@pagerduty-llm`). */
  @Matches(/^\s*(@[\w.\-/]+\s*(,\s*|$))*$/, {
    message: 'DATADOG_NOTIFY_HANDLES must be a comma-separated list of @handles',
  })
  DATADOG_NOTIFY_HANDLES = '@slack-llm-oncall';
  /** Public base URL of this service, the target of Datadog synthetic tests (never taken from a request). */
  @IsOptional() @Transform(blankToUndefined) @HttpUrl() PUBLIC_BASE_URL?: string;
  /** Base URL of the runbooks (`<base>/<monitor key>.md`) linked from monitors; default the repo path `runbooks`. */
  @IsOptional() @Transform(blankToUndefined) @HttpUrl() DATADOG_RUNBOOK_BASE_URL?: string;
  /** Datadog user ids (uuids, comma-separated) of the on-call rotation provisioned by `npm run datadog:apply`. */
  @Matches(/^\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s*(,\s*|$))*$/i, {
    message: 'DATADOG_ONCALL_USER_IDS must be a comma-separated list of Datadog user ids (uuids)',
  })
  DATADOG_ONCALL_USER_IDS = '';

  // --- incidents ---
  /** Alerts of the same monitor and group within this window update the open incident instead of opening one. */
  @Transform(toInt) @IsInt() @Min(0) @Max(7 * 86_400_000) INCIDENTS_DEDUPE_WINDOW_MS = 3_600_000;
  /**
   * An alert of a monitor and group within this long of its incident's recovery reopens that incident (a flapping
   * monitor: one incident, its firings counted) instead of opening and paging a new one; 0: never reopened.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(7 * 86_400_000) INCIDENTS_REOPEN_WINDOW_MS = 1_800_000;
  /**
   * Outbox rows not delivered yet (pending or being delivered) past which a new alert is refused with 503 and
   * Retry-After (Datadog retries a webhook answered 5xx): the backlog of an outage or a storm stays bounded; 0: no cap.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(10_000_000) INCIDENTS_BACKLOG_MAX = 10_000;
  /** Shared secret of the monitor webhook (header `X-Webhook-Secret`); the webhook is refused without it. */
  @IsOptional()
  @Transform(blankToUndefined)
  @IsString()
  @MinLength(16)
  @Matches(/^[\x20-\x7e]+$/, {
    message:
      'INCIDENTS_WEBHOOK_SECRET must be printable ASCII without line breaks: the monitor sends it in the X-Webhook-Secret header',
  })
  INCIDENTS_WEBHOOK_SECRET?: string;
  /** How often the outbox is polled for due deliveries. */
  @Transform(toInt) @IsInt() @Min(50) @Max(600_000) INCIDENTS_DELIVERY_INTERVAL_MS = 2000;
  /** First and largest wait between delivery attempts of one incident (exponential, jittered). */
  @Transform(toInt) @IsInt() @Min(10) @Max(600_000) INCIDENTS_RETRY_BASE_MS = 1000;
  @Transform(toInt) @IsInt() @Min(10) @Max(86_400_000) INCIDENTS_RETRY_MAX_MS = 300_000;
  /** A claimed delivery not finished within this lease (a replica died) is claimed again by another. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000) INCIDENTS_LEASE_MS = 60_000;

  // --- LLM providers ---
  @IsIn(LLM_PROVIDERS) LLM_PROVIDER: LlmProviderName = 'simulated';
  @IsString() @Pattern(/^[\w.\-:/@]+$/, MODEL_ID) LLM_MODEL = 'gemini-2.5-flash';
  @IsString()
  @Matches(/^[\w.\-:/@\s,]*$/, { message: 'LLM_FALLBACK_MODELS must be a comma-separated list of model ids' })
  LLM_FALLBACK_MODELS = '';
  @IsString()
  @Matches(/^\s*([\w.\-:/@]+\s*=\s*[\w.\-:/@]+\s*(,\s*[\w.\-:/@]+\s*=\s*[\w.\-:/@]+\s*)*)?,?\s*$/, {
    message: 'LLM_MODEL_ALIASES must be a comma-separated list of alias=model pairs',
  })
  LLM_MODEL_ALIASES = '';
  @Transform(toInt) @IsInt() @Min(100) @Max(600_000) LLM_TIMEOUT_MS = 30_000;
  @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000) LLM_DEADLINE_MS = 120_000;
  @Transform(toInt) @IsInt() @Min(0) @Max(10) LLM_MAX_RETRIES = 2;
  @Transform(toInt) @IsInt() @Min(1) @Max(60_000) LLM_RETRY_BASE_MS = 250;
  @Transform(toInt) @IsInt() @Min(1) @Max(300_000) LLM_RETRY_MAX_MS = 8_000;
  /** Hard cap on upstream calls in flight for the provider (also its connection pool's size). */
  @Transform(toInt) @IsInt() @Min(1) @Max(100_000) LLM_MAX_CONCURRENCY = 5_000;
  @Transform(toInt) @IsInt() @Min(0) @Max(60_000) LLM_QUEUE_TIMEOUT_MS = 2_000;
  /** Hold on a model after a 429 without Retry-After (a Retry-After is honoured as the hold, up to the max). */
  @Transform(toInt) @IsInt() @Min(10) @Max(600_000) LLM_RATE_LIMIT_HOLD_MS = 1_000;
  @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000) LLM_RATE_LIMIT_MAX_HOLD_MS = 60_000;
  /** Load shedding (503 NO_CAPACITY) on saturation, each signal sustained for LLM_SHED_SUSTAIN_MS; 0 turns one off. */
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) LLM_SHED_ELU = 0.99;
  @Transform(toInt) @IsInt() @Min(0) @Max(60_000) LLM_SHED_EVENT_LOOP_DELAY_MS = 500;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) LLM_SHED_HEAP_RATIO = 0.9;
  @Transform(toInt) @IsInt() @Min(500) @Max(600_000) LLM_SHED_SUSTAIN_MS = 5_000;
  @Transform(toInt) @IsInt() @Min(1) @Max(1000) LLM_BREAKER_FAILURE_THRESHOLD = 5;
  @Transform(toNumber) @IsNumber() @Min(0.01) @Max(1) LLM_BREAKER_FAILURE_RATIO = 0.5;
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000) LLM_BREAKER_MIN_REQUESTS = 20;
  @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000) LLM_BREAKER_WINDOW_MS = 60_000;
  @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000) LLM_BREAKER_COOLDOWN_MS = 30_000;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(2) LLM_TEMPERATURE = 0.7;
  @Transform(toInt) @IsInt() @Min(1) @Max(65_536) LLM_MAX_OUTPUT_TOKENS = 2048;
  @Transform(toInt) @IsInt() @Min(65_536) @Max(1_073_741_824) LLM_MAX_RESPONSE_BYTES = 8_388_608;
  @IsOptional() @Transform(blankToUndefined) @HttpUrl() LLM_BASE_URL?: string;
  @IsOptional() @Transform(blankToUndefined) @IsString() LLM_PRICE_TABLE_PATH?: string;
  @RequiredWhen('LLM_PROVIDER', 'vertex')
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/, { message: 'GOOGLE_CLOUD_PROJECT must be a Google Cloud project id' })
  GOOGLE_CLOUD_PROJECT?: string;
  @IsString()
  @Pattern(/^[a-z0-9-]+$/, 'a Google Cloud location such as us-central1 or global (lower case)')
  GOOGLE_CLOUD_LOCATION = 'us-central1';
  @RequiredWhen('LLM_PROVIDER', 'gemini') @IsString() @MinLength(8) @HeaderKey() GEMINI_API_KEY?: string;
  @RequiredWhen('LLM_PROVIDER', 'openai', { orWhenSet: true })
  @Transform(blankToUndefined)
  @HttpUrl()
  OPENAI_BASE_URL?: string;
  @IsOptional() @Transform(blankToUndefined) @IsString() @HeaderKey() OPENAI_API_KEY?: string;
  /** Model-name prefixes of OpenAI reasoning models: sent max_completion_tokens, and no default temperature. */
  @IsString()
  @Matches(/^[\w.\-:/@\s,]*$/, {
    message: 'OPENAI_REASONING_MODELS must be a comma-separated list of model-name prefixes',
  })
  OPENAI_REASONING_MODELS = 'o1,o3,o4,gpt-5';

  // --- simulated provider ---
  @Transform(toInt) @IsInt() @Min(0) SIM_SEED = 42;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(600_000) SIM_LATENCY_MEDIAN_MS = 350;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(3) SIM_LATENCY_SIGMA = 0.35;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) SIM_ERROR_RATE = 0;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) SIM_RATE_LIMIT_RATE = 0;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) SIM_TIMEOUT_RATE = 0;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) SIM_SLOW_RATE = 0;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) SIM_EMPTY_RATE = 0;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) SIM_SAFETY_BLOCK_RATE = 0;
  /**
   * Per-model profiles (quality by task and difficulty, latency, failure rate) for the models that have one
   * (docs/ml.md, "Simulated model profiles"); off: every model answers alike, as before.
   */
  @Transform(toBool) @IsBoolean() SIM_MODEL_PROFILES = false;

  // --- model router (docs/router.md) ---
  @IsIn(['off', 'rules', 'learned']) ROUTER_MODE: 'off' | 'rules' | 'learned' = 'rules';
  /** The models the router chooses from, cheapest first; empty: LLM_MODEL alone (the router never changes it). */
  @IsString()
  @Matches(/^[\w.\-:/@\s,]*$/, { message: 'ROUTER_CANDIDATES must be a comma-separated list of model ids' })
  ROUTER_CANDIDATES = '';
  /** Share of routed calls sent to a random admissible candidate (learned mode), so every model keeps getting evidence. */
  @Transform(toNumber) @IsNumber() @Min(0) @Max(0.5) ROUTER_EXPLORATION = 0.03;
  /** Learned mode serves the rules until the model was trained on at least this many outcomes. */
  @Transform(toInt) @IsInt() @Min(0) @Max(100_000_000) ROUTER_MIN_HISTORY = 500;
  /**
   * Default constraints per endpoint, `endpoint:key=value,key=value;endpoint:...` with keys min_quality, max_latency_ms
   * and max_cost_usd (endpoint `*`: every endpoint). A request may only tighten them.
   */
  @IsString() ROUTER_CONSTRAINTS = '*:min_quality=0.5';

  // --- /stress guards ---
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000_000) STRESS_MAX_INPUT_CHARS = 100_000;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1000) STRESS_MAX_COST_USD = 0.05;

  // --- quality and safety ---
  @Transform(toBool) @IsBoolean() PII_REDACT_PROMPTS = false;
  @IsIn(['flag', 'block']) PROMPT_INJECTION_POLICY: 'flag' | 'block' = 'flag';
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000_000) TOKEN_ABUSE_MAX_INPUT_TOKENS = 8000;

  // --- ledger, forecasts, budgets ---
  @IsString() @MinLength(1) DATA_DIR = './var';
  @IsOptional()
  @Transform(blankToUndefined)
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;
  @Transform(toInt) @IsInt() @Min(100) @Max(60_000) DATABASE_TIMEOUT_MS = 5000;
  @Transform(toInt) @IsInt() @Min(1) @Max(3650) LEDGER_RETENTION_DAYS = 90;
  @Transform(toInt) @IsInt() @Min(50) @Max(60_000) LEDGER_FLUSH_MS = 1000;
  @Transform(toBool) @IsBoolean() LEDGER_STORE_PREVIEW = false;
  @IsOptional() @Transform(toNumber) @IsNumber() @Min(0) DAILY_BUDGET_USD?: number;
  @IsIn(['alert', 'enforce']) BUDGET_POLICY: 'alert' | 'enforce' = 'alert';
  // --- response cache (docs/cache.md) ---
  /** off: no cache; exact: an exact-match response cache in the ledger's store. */
  @IsIn(['off', 'exact']) CACHE_MODE: 'off' | 'exact' = 'off';
  /** How long a cached answer may be served, in seconds. */
  @Transform(toInt) @IsInt() @Min(1) @Max(30 * 86_400) CACHE_TTL_S = 3600;
  /** At most this many cached answers are kept (the oldest are evicted). */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000_000) CACHE_MAX_ENTRIES = 10_000;
  /** key: each API key has its own entries; shared: one key's answer may be served to another. */
  @IsIn(['key', 'shared']) CACHE_SCOPE: 'key' | 'shared' = 'key';
  // --- health score ---
  /** p95 latency objective of the performance component. */
  @Transform(toInt) @IsInt() @Min(1) @Max(600_000) HEALTH_LATENCY_SLO_MS = 2000;
  /** Spend per request the cost component calls fine (its curve starts falling at half of it). */
  @Transform(toNumber) @IsNumber() @Min(0.000001) HEALTH_COST_PER_REQUEST_USD = 0.01;
  /** `component=weight` pairs; a component left out keeps its default weight. */
  @Matches(/^\s*((performance|reliability|cost|quality|security)\s*=\s*\d+(\.\d+)?\s*(,\s*|$))*$/, {
    message: 'HEALTH_WEIGHTS must be component=weight pairs (performance, reliability, cost, quality, security)',
  })
  HEALTH_WEIGHTS = 'performance=0.25,reliability=0.25,cost=0.2,quality=0.2,security=0.1';
  /** The short and long windows (the API's `5m` and `1h`), and the step their end is aligned to. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(86_400_000) HEALTH_WINDOW_SHORT_MS = 300_000;
  @Transform(toInt) @IsInt() @Min(1000) @Max(86_400_000) HEALTH_WINDOW_LONG_MS = 3_600_000;
  @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000) HEALTH_WINDOW_STEP_MS = 10_000;
  /** The health gauges are computed and sent this often; 0: never (the endpoint still answers). */
  @Transform(toInt) @IsInt() @Min(0) @Max(3_600_000) HEALTH_INTERVAL_MS = 5000;
  @IsString() @MinLength(1) MODELS_DIR = './models';
  @Transform(toInt) @IsInt() @Min(0) @Max(24 * 30) FORECAST_RETRAIN_HOURS = 0;
  /** Remote embeddings (provider's embedding API, off the response path) refine the quality score. */
  @Transform(toBool) @IsBoolean() ML_REMOTE_EMBEDDINGS = true;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) ML_REMOTE_EMBEDDINGS_SAMPLE_RATE = 0.05;
  /** Embedding model for the remote refinement; default gemini-embedding-001 (vertex/gemini), text-embedding-3-small (openai). */
  @IsOptional()
  @Transform(blankToUndefined)
  @IsString()
  @Pattern(/^[\w.\-:/@]+$/, MODEL_ID)
  ML_EMBEDDINGS_MODEL?: string;
}
