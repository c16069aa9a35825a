import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { parseCorsOrigins, parseOpenPaths, readApiKeys } from './api-keys';
import { AppConfig, HEALTH_COMPONENTS, type HealthComponentName, type RouteConstraints } from './app-config';
import { EX_CONFIG } from './boot-error';
import { EnvDto, requiredCondition, SECRET_VARIABLES, UDP_URL, UNIX_SOCKET_URL } from './env.dto';
import { directoryProblem, existingDirectoryProblem, jsonFileProblem } from './file-checks';
import { Secret } from './secret';

/** Thrown when the environment is invalid; its message names every bad variable (never a secret's value). */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** The environment to read; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** An optional dotenv file; variables already in `env` win. Defaults to `./.env` when it exists. */
  envFile?: string | false;
  /** The package version, the default of DD_VERSION. */
  packageVersion?: string;
}

function readPackageVersion(): string {
  for (const candidate of [resolve(process.cwd(), 'package.json'), resolve(__dirname, '../../../package.json')]) {
    try {
      const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as { version?: unknown };
      if (typeof parsed.version === 'string') return parsed.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
}

/** Constraints on a value's type: when one fails, the variable's range and length constraints say nothing useful. */
const TYPE_CONSTRAINTS = new Set(['isInt', 'isNumber', 'isBoolean', 'isString', 'isIn', 'isUrl']);

/** A number's bounds as the rule states them: "an integer between 0 and 65535", "a number of at least 0". */
function numberRule(kind: 'isInt' | 'isNumber', min: number | undefined, max: number | undefined): string {
  const what = kind === 'isInt' ? 'an integer' : 'a number';
  if (min !== undefined && max !== undefined) return `must be ${what} between ${String(min)} and ${String(max)}`;
  if (min !== undefined) return `must be ${what} of at least ${String(min)}`;
  if (max !== undefined) return `must be ${what} of at most ${String(max)}`;
  return `must be ${what}`;
}

/**
 * One reason per bad variable, as the HTTP validation pipe gives one per field: "required" (and when) for a missing
 * one; for a number, its whole rule (`PORT=abc` failed isInt, min and max at once: three reasons, two of them wrong);
 * else the failed type constraint, else the first failed one in the order they are declared.
 */
function reasonOf(error: ValidationError, given: boolean): string {
  const name = error.property;
  if (!given) {
    const when = requiredCondition(name);
    return when ? `required when ${when}` : 'required';
  }
  const constraints = error.constraints ?? {};
  const rules = getMetadataStorage()
    .getTargetValidationMetadatas(EnvDto, '', true, false)
    .filter((m) => m.propertyName === name && m.name !== undefined)
    .reverse(); // decorators are applied bottom-up: reversed, they are in the order written
  const bound = (rule: string): number | undefined => {
    const value: unknown = rules.find((m) => m.name === rule)?.constraints?.[0];
    return typeof value === 'number' ? value : undefined;
  };
  const numeric = rules.find((m) => m.name === 'isInt' || m.name === 'isNumber')?.name as
    'isInt' | 'isNumber' | undefined;
  if (numeric && ['isInt', 'isNumber', 'min', 'max'].some((key) => key in constraints))
    return numberRule(numeric, bound('min'), bound('max'));
  if ('isBoolean' in constraints) return 'must be true or false (or 1/0, yes/no, on/off)';
  const failed = rules.map((m) => m.name!).filter((key) => key in constraints);
  const key = failed.find((k) => TYPE_CONSTRAINTS.has(k)) ?? failed[0] ?? Object.keys(constraints)[0];
  const message = key === undefined ? 'is invalid' : (constraints[key] ?? 'is invalid');
  // class-validator's messages start with the variable's name, which the line already begins with.
  return message.startsWith(`${name} `) ? message.slice(name.length + 1) : message;
}

/**
 * A refused value as the message quotes it: a URL's user information and query are not shown, as `urlForDisplay`
 * does for a valid one. Refused, it cannot be parsed, so this is textual: everything up to the last `@` after the
 * scheme (a password may hold `@`, `/` or `#`: the usual reason a URL with one is refused), and everything from
 * the first `?` or `#` after that, are masked.
 */
function shownValue(value: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(value)?.[0];
  if (scheme === undefined) return JSON.stringify(value);
  let rest = value.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = `[redacted]@${rest.slice(at + 1)}`;
  const query = rest.search(/[?#]/);
  if (query >= 0) rest = `${rest.slice(0, query + 1)}[redacted]`;
  return JSON.stringify(`${scheme}${rest}`);
}

function describe(errors: ValidationError[], given: Record<string, string>): string[] {
  return errors.map((error) => {
    const name = error.property;
    const value = given[name];
    if (value === undefined) return `${name}: ${reasonOf(error, false)}`;
    const shown = SECRET_VARIABLES.has(name) ? '[redacted]' : shownValue(value);
    return `${name}: ${reasonOf(error, true)} (got ${shown})`;
  });
}

/**
 * The files and folders the settings name, checked now rather than found wrong half-way through the start (each only
 * when its variable is valid): DATA_DIR, unless DATABASE_URL holds the state instead; the price table file is JSON
 * (what it holds is checked by libs/llm, which knows the format); MODELS_DIR, when set, an existing directory.
 */
function fileProblems(dto: EnvDto, picked: Readonly<Record<string, string>>, invalid: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  // Set, it names where the trained models are: a path that is not there is a mistake (a typo, a volume not
  // mounted), not a wish for the fallbacks, which the service used before with only a warning per model. Unset: the
  // default `./models`, whose models are optional.
  if (picked.MODELS_DIR !== undefined && !invalid.has('MODELS_DIR')) {
    const problem = existingDirectoryProblem(dto.MODELS_DIR);
    if (problem) problems.push(`MODELS_DIR: ${problem} (unset, it is ./models, whose models are optional)`);
  }
  if (!dto.DATABASE_URL && !invalid.has('DATABASE_URL') && !invalid.has('DATA_DIR')) {
    const problem = directoryProblem(dto.DATA_DIR);
    if (problem) problems.push(`DATA_DIR: ${problem}`);
  }
  if (dto.LLM_PRICE_TABLE_PATH && !invalid.has('LLM_PRICE_TABLE_PATH')) {
    const problem = jsonFileProblem(dto.LLM_PRICE_TABLE_PATH);
    if (problem) problems.push(`LLM_PRICE_TABLE_PATH: ${problem}`);
  }
  return problems;
}

/**
 * Pairs of settings where one must not exceed the other: `[low, high, what the low one is]`. A value past its partner
 * is in range on its own but contradicts it (a first retry wait above the longest, a 5 s window on a 10 s step that
 * skips half the calls), so the start stops rather than one of them being silently ignored.
 */
const ORDERED_PAIRS: readonly (readonly [keyof EnvDto, keyof EnvDto, string])[] = [
  ['LLM_RETRY_BASE_MS', 'LLM_RETRY_MAX_MS', 'the first retry wait cannot exceed the longest'],
  ['LLM_RATE_LIMIT_HOLD_MS', 'LLM_RATE_LIMIT_MAX_HOLD_MS', 'a hold cannot exceed its ceiling'],
  ['INCIDENTS_RETRY_BASE_MS', 'INCIDENTS_RETRY_MAX_MS', 'the first delivery retry wait cannot exceed the longest'],
  ['HEALTH_WINDOW_STEP_MS', 'HEALTH_WINDOW_SHORT_MS', 'windows ending on a longer step would skip calls'],
  ['HEALTH_WINDOW_SHORT_MS', 'HEALTH_WINDOW_LONG_MS', 'the 5m window cannot be longer than the 1h one'],
];

/**
 * One line per contradicting pair (each only when both values are valid), on the variable that was set: the low one
 * when both were ("LLM_RETRY_BASE_MS: must be at most LLM_RETRY_MAX_MS (500): ... (got "10000")"), else the one given,
 * its partner's default named as such.
 */
function orderProblems(dto: EnvDto, given: Record<string, string>, invalid: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const [low, high, why] of ORDERED_PAIRS) {
    if (invalid.has(low) || invalid.has(high)) continue;
    const lowValue = dto[low] as number;
    const highValue = dto[high] as number;
    if (lowValue <= highValue) continue;
    const fromDefault = (name: string): string => (given[name] === undefined ? ', its default' : '');
    problems.push(
      given[low] !== undefined
        ? `${low}: must be at most ${high} (${String(highValue)}${fromDefault(high)}): ${why} (got ${JSON.stringify(given[low])})`
        : `${high}: must be at least ${low} (${String(lowValue)}, its default): ${why} (got ${JSON.stringify(given[high])})`,
    );
  }
  return problems;
}

/** `component=weight` pairs naming a component twice: the reason, else undefined (the format is already validated). */
function healthWeightsProblem(value: string): string | undefined {
  const names = list(value).map((pair) => pair.split('=')[0]?.trim() ?? '');
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  return twice === undefined ? undefined : `${twice} is given twice (got ${JSON.stringify(value)})`;
}

/**
 * A DATABASE_URL whose password (or user) holds an @, /, ? or # left unencoded: the URL's host ends at the first /, ?
 * or #, so pieces of the password were read as the host or the database, and told as such by the start's "cannot
 * connect to PostgreSQL at <host>, database <db>". An @ or a # past the host is never meant there: refused, unquoted.
 */
function databaseUrlProblem(value: string): string | undefined {
  const rest = value.slice(value.indexOf('://') + 3);
  const hostEnd = rest.search(/[/?#]/);
  const past = hostEnd < 0 ? '' : rest.slice(hostEnd);
  if (!past.includes('@') && !past.includes('#')) return undefined;
  return (
    'has an @ or a # after its host: an @, /, ?, # or space in the password (or the user) must be percent-encoded ' +
    '(%40, %2F, %3F, %23, %20) (got [redacted])'
  );
}

/**
 * Where DogStatsD is: DD_DOGSTATSD_URL when set (`udp://host:port` or `unix:///path`, Datadog's convention), else
 * DD_AGENT_HOST and DD_DOGSTATSD_PORT. The URL is already validated.
 */
function dogstatsdAddress(dto: EnvDto): { host: string; port: number; socketPath?: string } {
  const url = dto.DD_DOGSTATSD_URL;
  const socket = url === undefined ? null : UNIX_SOCKET_URL.exec(url);
  if (socket) return { host: dto.DD_AGENT_HOST, port: dto.DD_DOGSTATSD_PORT, socketPath: socket[1]! };
  const udp = url === undefined ? null : UDP_URL.exec(url);
  if (udp) return { host: udp[1]!.replace(/^\[|\]$/g, ''), port: Number(udp[2]) };
  return { host: dto.DD_AGENT_HOST, port: dto.DD_DOGSTATSD_PORT };
}

/** A DogStatsD address that cannot be used as given: its reason, else undefined (the format is already validated). */
function dogstatsdProblem(dto: EnvDto, given: Record<string, string>): string | undefined {
  const url = dto.DD_DOGSTATSD_URL;
  if (url === undefined) return undefined;
  const udp = UDP_URL.exec(url);
  if (udp && (Number(udp[2]) < 1 || Number(udp[2]) > 65535))
    return `DD_DOGSTATSD_URL: the port must be 1 to 65535 (got ${JSON.stringify(url)})`;
  // The agent reads at most 8 KiB per datagram on its socket (dogstatsd_buffer_size): a longer packet is cut.
  if (UNIX_SOCKET_URL.test(url) && dto.STATSD_MAX_BUFFER_BYTES > 8192)
    return `STATSD_MAX_BUFFER_BYTES: must be at most 8192 with a unix socket in DD_DOGSTATSD_URL: the agent reads 8 KiB per datagram (got ${JSON.stringify(given.STATSD_MAX_BUFFER_BYTES ?? String(dto.STATSD_MAX_BUFFER_BYTES))})`;
  return undefined;
}

/**
 * A provider base URL with a user or a password in it (`http://user:key@gateway/v1`): no adapter sends them (the
 * clients take the URL's origin and path), so every call was refused by the gateway with 401 while nothing said why.
 * The key belongs in the provider's key variable. Never quoted.
 */
function baseUrlCredentialsProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.username === '' && url.password === '') return undefined;
  return (
    'has a user or a password in it (user:password@), which is never sent: put the key in OPENAI_API_KEY ' +
    '(or GEMINI_API_KEY), sent as a bearer token (got [redacted])'
  );
}

/** Every variable named in `EnvDto`, read from its validation metadata. */
export function envVariableNames(): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(EnvDto, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}

const DEFAULT_HEALTH_WEIGHTS: Record<HealthComponentName, number> = {
  performance: 0.25,
  reliability: 0.25,
  cost: 0.2,
  quality: 0.2,
  security: 0.1,
};

/** `component=weight` pairs over the defaults (the format is already validated); null when they sum to 0. */
function parseHealthWeights(value: string): Record<HealthComponentName, number> | null {
  const weights = { ...DEFAULT_HEALTH_WEIGHTS };
  for (const pair of list(value)) {
    const [name, weight] = pair.split('=').map((p) => p.trim());
    if (HEALTH_COMPONENTS.includes(name as HealthComponentName)) weights[name as HealthComponentName] = Number(weight);
  }
  return HEALTH_COMPONENTS.reduce((sum, c) => sum + weights[c], 0) > 0 ? weights : null;
}

/** `alias=model,...` as a map; a message when an alias is given twice or is the name of a model of the chain. */
function parseModelAliases(value: string, chain: readonly string[]): Record<string, string> | string {
  const aliases: Record<string, string> = {};
  for (const pair of list(value)) {
    const [alias = '', model = ''] = pair.split('=').map((part) => part.trim());
    if (chain.includes(alias)) return `${alias} is a model of the chain (LLM_MODEL, LLM_FALLBACK_MODELS), not an alias`;
    if (Object.hasOwn(aliases, alias)) return `${alias} is given twice`;
    aliases[alias] = model;
  }
  return Object.freeze(aliases);
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/**
 * Reads the environment (plus an optional .env file) once, validates every variable and returns the
 * typed configuration. Throws `ConfigError` naming each bad variable.
 */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const baseEnv = options.env ?? process.env;
  const envFile = options.envFile === undefined ? resolve(process.cwd(), '.env') : options.envFile;
  const fromFile = envFile && existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  const raw: Record<string, string | undefined> = { ...fromFile, ...baseEnv };

  // Blank values mean "use the default", as in most dotenv tooling. The spaces and line breaks around a value are no
  // part of it: a secret read from a file (`kubectl create secret --from-file`) ends with a newline, which no header
  // carries (every provider call failed, every webhook was refused); a HOST, a DATA_DIR with a space named another.
  const picked: Record<string, string> = {};
  for (const key of envVariableNames()) {
    const value = raw[key]?.trim();
    if (value !== undefined && value !== '') picked[key] = value;
  }

  const dto = plainToInstance(EnvDto, picked, { exposeDefaultValues: true });
  const errors = validateSync(dto, { skipMissingProperties: false, forbidUnknownValues: false });
  const invalid = new Set(errors.map((e) => e.property));
  const weightsTwice = invalid.has('HEALTH_WEIGHTS') ? undefined : healthWeightsProblem(dto.HEALTH_WEIGHTS);
  const databaseUrl =
    dto.DATABASE_URL && !invalid.has('DATABASE_URL') ? databaseUrlProblem(dto.DATABASE_URL) : undefined;
  const dogstatsd =
    invalid.has('DD_DOGSTATSD_URL') || invalid.has('STATSD_MAX_BUFFER_BYTES')
      ? undefined
      : dogstatsdProblem(dto, picked);
  const baseUrlCredentials = (['LLM_BASE_URL', 'OPENAI_BASE_URL'] as const).flatMap((name) => {
    const value = dto[name];
    const problem = value && !invalid.has(name) ? baseUrlCredentialsProblem(value) : undefined;
    return problem ? [`${name}: ${problem}`] : [];
  });
  const problems = [
    ...describe(errors, picked),
    ...baseUrlCredentials,
    ...orderProblems(dto, picked, invalid),
    ...(dogstatsd ? [dogstatsd] : []),
    ...(weightsTwice ? [`HEALTH_WEIGHTS: ${weightsTwice}`] : []),
    ...(databaseUrl ? [`DATABASE_URL: ${databaseUrl}`] : []),
    ...fileProblems(dto, picked, invalid),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  const healthWeights = parseHealthWeights(dto.HEALTH_WEIGHTS);
  if (!healthWeights) throw new ConfigError(['HEALTH_WEIGHTS: the weights must sum to more than 0']);

  const secret = (value: string | undefined): Secret | undefined => (value ? new Secret(value) : undefined);
  const apiKey = secret(dto.DD_API_KEY);
  const appKey = secret(dto.DD_APP_KEY);
  const fallbackModels = list(dto.LLM_FALLBACK_MODELS).filter((m) => m !== dto.LLM_MODEL);
  const modelAliases = parseModelAliases(dto.LLM_MODEL_ALIASES, [dto.LLM_MODEL, ...fallbackModels]);
  if (typeof modelAliases === 'string') throw new ConfigError([`LLM_MODEL_ALIASES: ${modelAliases}`]);

  const routeConstraints = parseRouteConstraints(dto.ROUTER_CONSTRAINTS);
  if (typeof routeConstraints === 'string') throw new ConfigError([`ROUTER_CONSTRAINTS: ${routeConstraints}`]);

  const apiKeys = readApiKeys(dto.API_KEYS, dto.API_KEYS_FILE);
  const openPaths = parseOpenPaths(dto.AUTH_OPEN_PATHS);
  const cors = parseCorsOrigins(dto.CORS_ORIGINS);
  const securityProblems = [...apiKeys.problems, ...openPaths.problems, ...cors.problems];
  if (securityProblems.length > 0) throw new ConfigError(securityProblems);
  if (!dto.DD_RUM_APPLICATION_ID !== !dto.DD_RUM_CLIENT_TOKEN)
    throw new ConfigError([
      'DD_RUM_APPLICATION_ID, DD_RUM_CLIENT_TOKEN: set both (RUM on the control room page) or neither',
    ]);

  const config: AppConfig = {
    http: {
      port: dto.PORT,
      host: dto.HOST,
      bodyLimitBytes: dto.BODY_LIMIT_BYTES,
      shutdownGraceMs: dto.SHUTDOWN_GRACE_MS,
      requestTimeoutMs: dto.HTTP_REQUEST_TIMEOUT_MS,
      sse: { keepAliveMs: dto.SSE_KEEPALIVE_MS, writeTimeoutMs: dto.SSE_WRITE_TIMEOUT_MS },
      trustProxyHops: dto.TRUST_PROXY_HOPS,
    },
    security: {
      authDisabled: dto.AUTH_DISABLED,
      apiKeys: apiKeys.keys,
      openPaths: openPaths.paths,
      rateLimitPerMinute: dto.RATE_LIMIT_PER_MINUTE,
      rateLimitAnonymousPerMinute: dto.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      corsOrigins: cors.origins,
    },
    log: {
      level: dto.LOG_LEVEL,
      truncateChars: dto.LOG_TRUNCATE_CHARS,
      bufferBytes: dto.LOG_BUFFER_BYTES,
      maxBacklogBytes: dto.LOG_MAX_BACKLOG_BYTES,
    },
    service: {
      name: dto.DD_SERVICE,
      env: dto.DD_ENV,
      version: dto.DD_VERSION ?? options.packageVersion ?? readPackageVersion(),
    },
    statsd: {
      ...dogstatsdAddress(dto),
      flushIntervalMs: dto.STATSD_FLUSH_INTERVAL_MS,
      maxBufferBytes: dto.STATSD_MAX_BUFFER_BYTES,
      runtimeIntervalMs: dto.RUNTIME_METRICS_INTERVAL_MS,
    },
    memory: { releaseIdleMs: dto.MEMORY_RELEASE_IDLE_MS },
    tracing: {
      enabled: dto.DD_TRACE_ENABLED,
      agentUrl: dto.DD_TRACE_AGENT_URL,
      llmobsEnabled: dto.DD_LLMOBS_ENABLED,
      mlApp: dto.DD_LLMOBS_ML_APP ?? dto.DD_SERVICE,
      llmobsSampleRate: dto.LLMOBS_SAMPLE_RATE,
      llmobsKeep: dto.LLMOBS_KEEP,
      llmobsKeepShare: dto.LLMOBS_KEEP_SHARE,
      llmobsKeepMaxPerS: dto.LLMOBS_KEEP_MAX_PER_S,
    },
    datadog: {
      apiKey,
      appKey,
      site: dto.DD_SITE,
      apiUrl: (dto.DATADOG_API_URL ?? `https://api.${dto.DD_SITE}`).replace(/\/+$/, ''),
      appUrl: (dto.DATADOG_APP_URL ?? `https://app.${dto.DD_SITE}`).replace(/\/+$/, ''),
      dashboardId: dto.DATADOG_DASHBOARD_ID,
      notifyHandles: list(dto.DATADOG_NOTIFY_HANDLES),
      publicBaseUrl: dto.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
      runbookBaseUrl: (dto.DATADOG_RUNBOOK_BASE_URL ?? 'runbooks').replace(/\/+$/, ''),
      oncallUserIds: list(dto.DATADOG_ONCALL_USER_IDS),
      configured: apiKey !== undefined && appKey !== undefined,
      rum:
        dto.DD_RUM_APPLICATION_ID && dto.DD_RUM_CLIENT_TOKEN
          ? { applicationId: dto.DD_RUM_APPLICATION_ID, clientToken: new Secret(dto.DD_RUM_CLIENT_TOKEN) }
          : undefined,
    },
    incidents: {
      dedupeWindowMs: dto.INCIDENTS_DEDUPE_WINDOW_MS,
      reopenWindowMs: dto.INCIDENTS_REOPEN_WINDOW_MS,
      backlogMax: dto.INCIDENTS_BACKLOG_MAX,
      webhookSecret: secret(dto.INCIDENTS_WEBHOOK_SECRET),
      deliveryIntervalMs: dto.INCIDENTS_DELIVERY_INTERVAL_MS,
      retryBaseMs: dto.INCIDENTS_RETRY_BASE_MS,
      retryMaxMs: dto.INCIDENTS_RETRY_MAX_MS,
      leaseMs: dto.INCIDENTS_LEASE_MS,
    },
    llm: {
      provider: dto.LLM_PROVIDER,
      model: dto.LLM_MODEL,
      fallbackModels,
      modelAliases,
      timeoutMs: dto.LLM_TIMEOUT_MS,
      deadlineMs: dto.LLM_DEADLINE_MS,
      maxRetries: dto.LLM_MAX_RETRIES,
      retryBaseMs: dto.LLM_RETRY_BASE_MS,
      retryMaxMs: dto.LLM_RETRY_MAX_MS,
      maxConcurrency: dto.LLM_MAX_CONCURRENCY,
      queueTimeoutMs: dto.LLM_QUEUE_TIMEOUT_MS,
      rateLimit: { holdMs: dto.LLM_RATE_LIMIT_HOLD_MS, maxHoldMs: dto.LLM_RATE_LIMIT_MAX_HOLD_MS },
      shed: {
        elu: dto.LLM_SHED_ELU,
        eventLoopDelayMs: dto.LLM_SHED_EVENT_LOOP_DELAY_MS,
        heapRatio: dto.LLM_SHED_HEAP_RATIO,
        sustainMs: dto.LLM_SHED_SUSTAIN_MS,
      },
      breaker: {
        failureThreshold: dto.LLM_BREAKER_FAILURE_THRESHOLD,
        failureRatio: dto.LLM_BREAKER_FAILURE_RATIO,
        minRequests: dto.LLM_BREAKER_MIN_REQUESTS,
        windowMs: dto.LLM_BREAKER_WINDOW_MS,
        cooldownMs: dto.LLM_BREAKER_COOLDOWN_MS,
      },
      temperature: dto.LLM_TEMPERATURE,
      maxOutputTokens: dto.LLM_MAX_OUTPUT_TOKENS,
      maxResponseBytes: dto.LLM_MAX_RESPONSE_BYTES,
      baseUrl: dto.LLM_BASE_URL?.replace(/\/+$/, ''),
      priceTablePath: dto.LLM_PRICE_TABLE_PATH,
      vertex: { project: dto.GOOGLE_CLOUD_PROJECT, location: dto.GOOGLE_CLOUD_LOCATION },
      gemini: { apiKey: secret(dto.GEMINI_API_KEY) },
      openai: {
        baseUrl: dto.OPENAI_BASE_URL?.replace(/\/+$/, ''),
        apiKey: secret(dto.OPENAI_API_KEY),
        reasoningModels: [...new Set(list(dto.OPENAI_REASONING_MODELS))].filter((prefix) => prefix !== 'none'),
      },
      simulated: {
        seed: dto.SIM_SEED,
        latencyMedianMs: dto.SIM_LATENCY_MEDIAN_MS,
        latencySigma: dto.SIM_LATENCY_SIGMA,
        errorRate: dto.SIM_ERROR_RATE,
        rateLimitRate: dto.SIM_RATE_LIMIT_RATE,
        timeoutRate: dto.SIM_TIMEOUT_RATE,
        slowRate: dto.SIM_SLOW_RATE,
        emptyRate: dto.SIM_EMPTY_RATE,
        safetyBlockRate: dto.SIM_SAFETY_BLOCK_RATE,
        modelProfiles: dto.SIM_MODEL_PROFILES,
      },
      stress: { maxInputChars: dto.STRESS_MAX_INPUT_CHARS, maxCostUsd: dto.STRESS_MAX_COST_USD },
    },
    router: {
      mode: dto.ROUTER_MODE,
      candidates: [...new Set(list(dto.ROUTER_CANDIDATES))],
      exploration: dto.ROUTER_EXPLORATION,
      minHistory: dto.ROUTER_MIN_HISTORY,
      constraints: routeConstraints,
    },
    safety: {
      redactPrompts: dto.PII_REDACT_PROMPTS,
      injectionPolicy: dto.PROMPT_INJECTION_POLICY,
      tokenAbuseMaxInputTokens: dto.TOKEN_ABUSE_MAX_INPUT_TOKENS,
    },
    ledger: {
      dataDir: dto.DATA_DIR,
      databaseUrl: secret(dto.DATABASE_URL),
      databaseTimeoutMs: dto.DATABASE_TIMEOUT_MS,
      retentionDays: dto.LEDGER_RETENTION_DAYS,
      flushMs: dto.LEDGER_FLUSH_MS,
      storePreview: dto.LEDGER_STORE_PREVIEW,
    },
    budget: { dailyUsd: dto.DAILY_BUDGET_USD, policy: dto.BUDGET_POLICY },
    cache: { mode: dto.CACHE_MODE, ttlS: dto.CACHE_TTL_S, maxEntries: dto.CACHE_MAX_ENTRIES, scope: dto.CACHE_SCOPE },
    health: {
      latencySloMs: dto.HEALTH_LATENCY_SLO_MS,
      costPerRequestUsd: dto.HEALTH_COST_PER_REQUEST_USD,
      weights: healthWeights,
      windowShortMs: dto.HEALTH_WINDOW_SHORT_MS,
      windowLongMs: dto.HEALTH_WINDOW_LONG_MS,
      windowStepMs: dto.HEALTH_WINDOW_STEP_MS,
      intervalMs: dto.HEALTH_INTERVAL_MS,
    },
    ml: {
      modelsDir: dto.MODELS_DIR,
      forecastRetrainHours: dto.FORECAST_RETRAIN_HOURS,
      remoteEmbeddings: dto.ML_REMOTE_EMBEDDINGS,
      remoteEmbeddingsSampleRate: dto.ML_REMOTE_EMBEDDINGS_SAMPLE_RATE,
      embeddingsModel: dto.ML_EMBEDDINGS_MODEL,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

let bootConfig: AppConfig | undefined;

/**
 * The process's configuration, validated once: the first call reads and validates the environment; on
 * an invalid environment it prints every bad variable to stderr and exits with status 78 (EX_CONFIG).
 */
export function getBootConfig(): AppConfig {
  if (bootConfig) return bootConfig;
  try {
    bootConfig = loadConfig();
    return bootConfig;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EX_CONFIG);
    }
    throw error;
  }
}

const ROUTE_CONSTRAINT_KEYS = {
  min_quality: { name: 'minQuality', min: 0, max: 1 },
  max_latency_ms: { name: 'maxLatencyMs', min: 1, max: 3_600_000 },
  max_cost_usd: { name: 'maxCostUsd', min: 0, max: 1000 },
} as const;

/**
 * `endpoint:key=value,key=value;endpoint:...` (ROUTER_CONSTRAINTS): the constraints by endpoint, or the reason it
 * is not one.
 */
export function parseRouteConstraints(text: string): Record<string, RouteConstraints> | string {
  const out: Record<string, RouteConstraints> = {};
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const colon = part.indexOf(':');
    const endpoint = part.slice(0, colon).trim();
    if (colon < 0 || !/^(\*|[a-z]+)$/.test(endpoint)) return `"${part.trim()}" is not endpoint:key=value,...`;
    const bounds: Record<string, number> = {};
    for (const pair of part.slice(colon + 1).split(',')) {
      if (pair.trim() === '') continue;
      const [key = '', value = ''] = pair.split('=').map((s) => s.trim());
      const spec = ROUTE_CONSTRAINT_KEYS[key as keyof typeof ROUTE_CONSTRAINT_KEYS];
      if (!spec) return `unknown key "${key}" (one of ${Object.keys(ROUTE_CONSTRAINT_KEYS).join(', ')})`;
      const n = Number(value);
      if (value === '' || !Number.isFinite(n) || n < spec.min || n > spec.max)
        return `${endpoint}:${key} must be a number from ${spec.min} to ${spec.max}`;
      bounds[spec.name] = n;
    }
    out[endpoint] = bounds;
  }
  return out;
}
