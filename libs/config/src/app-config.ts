import type { ApiKeyEntry } from './api-keys';
import type { LlmProviderName } from './env.dto';
import type { Secret } from './secret';

/** The components of the health score. */
export const HEALTH_COMPONENTS = ['performance', 'reliability', 'cost', 'quality', 'security'] as const;
export type HealthComponentName = (typeof HEALTH_COMPONENTS)[number];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The validated, typed, read-only configuration. Injected everywhere as a class token; nothing else in
 * the code base reads `process.env`.
 */
export abstract class AppConfig {
  abstract readonly http: {
    readonly port: number;
    readonly host: string;
    readonly bodyLimitBytes: number;
    readonly shutdownGraceMs: number;
    /** The most a request's headers and body may take to arrive (HTTP_REQUEST_TIMEOUT_MS): 408 after it. */
    readonly requestTimeoutMs: number;
    /**
     * Streamed answers (Server-Sent Events): a `: ping` comment after `keepAliveMs` without a write (0: none), and
     * the cut of a client that takes nothing for `writeTimeoutMs` while events wait for it.
     */
    readonly sse: { readonly keepAliveMs: number; readonly writeTimeoutMs: number };
    /** Proxies whose X-Forwarded-For is trusted for the client IP (TRUST_PROXY_HOPS); 0: none. */
    readonly trustProxyHops: number;
  };
  abstract readonly security: {
    /** AUTH_DISABLED: every route open (local development only). */
    readonly authDisabled: boolean;
    /** API_KEYS and API_KEYS_FILE; empty: a development key is generated at boot (unless auth is disabled). */
    readonly apiKeys: readonly ApiKeyEntry[];
    /** The paths open without a key (AUTH_OPEN_PATHS). */
    readonly openPaths: readonly string[];
    /** Requests per minute per key, and per IP without a key; 0: no limit. */
    readonly rateLimitPerMinute: number;
    readonly rateLimitAnonymousPerMinute: number;
    /** CORS_ORIGINS; empty: CORS off. */
    readonly corsOrigins: readonly string[];
  };
  abstract readonly log: {
    readonly level: LogLevel;
    readonly truncateChars: number;
    readonly bufferBytes: number;
    readonly maxBacklogBytes: number;
  };
  abstract readonly service: { readonly name: string; readonly env: string; readonly version: string };
  abstract readonly statsd: {
    readonly host: string;
    readonly port: number;
    /** The agent's DogStatsD unix datagram socket (DD_DOGSTATSD_URL `unix:///…`): used instead of host and port. */
    readonly socketPath?: string;
    readonly flushIntervalMs: number;
    readonly maxBufferBytes: number;
    /** Runtime gauges (event loop, memory, GC) every this many ms; 0: off. */
    readonly runtimeIntervalMs: number;
  };
  abstract readonly memory: {
    /** Idle time after which grown memory is handed back to the OS (MEMORY_RELEASE_IDLE_MS); 0: off. */
    readonly releaseIdleMs: number;
  };
  abstract readonly tracing: {
    readonly enabled: boolean;
    readonly agentUrl: string;
    readonly llmobsEnabled: boolean;
    readonly mlApp: string;
    /** Share of LLM calls recorded in LLM Observability, 0..1. */
    readonly llmobsSampleRate: number;
    /**
     * Which recorded calls keep their LLM Observability events, decided at each call's end: `all`, or `interesting`
     * (errors, retries, fallbacks, low quality, PII or injection, slow, abandoned) plus `llmobsKeepShare` of the rest.
     */
    readonly llmobsKeep: 'all' | 'interesting';
    /** Share of the unremarkable calls kept with `llmobsKeep: 'interesting'`, 0..1. */
    readonly llmobsKeepShare: number;
    /** Calls a second kept for `slow` or `share` at most (LLMOBS_KEEP_MAX_PER_S); 0: no limit. */
    readonly llmobsKeepMaxPerS: number;
  };
  abstract readonly datadog: {
    readonly apiKey?: Secret;
    readonly appKey?: Secret;
    readonly site: string;
    /** Base URL of the Datadog REST API: DATADOG_API_URL, else https://api.<DD_SITE>. */
    readonly apiUrl: string;
    /** Base URL of the Datadog web app (links): DATADOG_APP_URL, else https://app.<DD_SITE>. */
    readonly appUrl: string;
    readonly dashboardId?: string;
    /** `@handles` for monitors and incidents. */
    readonly notifyHandles: readonly string[];
    /** This service's public base URL (synthetic tests target it), if set. */
    readonly publicBaseUrl?: string;
    /** Where monitors link their runbooks: DATADOG_RUNBOOK_BASE_URL, else the repo path `runbooks`. */
    readonly runbookBaseUrl: string;
    /** Datadog user ids of the provisioned on-call rotation (DATADOG_ONCALL_USER_IDS). */
    readonly oncallUserIds: readonly string[];
    readonly configured: boolean;
    /** Datadog RUM on the control room page (DD_RUM_APPLICATION_ID, DD_RUM_CLIENT_TOKEN); undefined: off. */
    readonly rum?: { readonly applicationId: string; readonly clientToken: Secret };
  };
  abstract readonly incidents: {
    readonly dedupeWindowMs: number;
    /** A monitor and group firing again within this long of its incident's recovery reopens it; 0: never. */
    readonly reopenWindowMs: number;
    /** Rows not delivered yet past which new alerts are refused with 503 and Retry-After; 0: no cap. */
    readonly backlogMax: number;
    readonly webhookSecret?: Secret;
    readonly deliveryIntervalMs: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly leaseMs: number;
  };
  abstract readonly llm: {
    readonly provider: LlmProviderName;
    readonly model: string;
    readonly fallbackModels: readonly string[];
    /** Other names for models (LLM_MODEL_ALIASES), as `/v1/chat/completions` takes them: alias → model. */
    readonly modelAliases: Readonly<Record<string, string>>;
    readonly timeoutMs: number;
    /** The whole call's time budget: attempts, backoffs and fallbacks (until the first token for streams). */
    readonly deadlineMs: number;
    readonly maxRetries: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    /** Hard cap on upstream calls in flight for the provider (LLM_MAX_CONCURRENCY), also its connection pool's size. */
    readonly maxConcurrency: number;
    readonly queueTimeoutMs: number;
    /** The hold on a model after a 429: without Retry-After, and the ceiling of any hold. */
    readonly rateLimit: { readonly holdMs: number; readonly maxHoldMs: number };
    /** Load shedding on saturation (0 turns a signal off): each must hold for `sustainMs`. */
    readonly shed: {
      readonly elu: number;
      readonly eventLoopDelayMs: number;
      readonly heapRatio: number;
      readonly sustainMs: number;
    };
    readonly breaker: {
      readonly failureThreshold: number;
      readonly failureRatio: number;
      readonly minRequests: number;
      readonly windowMs: number;
      readonly cooldownMs: number;
    };
    readonly temperature: number;
    readonly maxOutputTokens: number;
    /**
     * Ceiling on what is read from the provider for one attempt (a JSON body, or a whole stream); each call's own
     * limit is derived from its max output tokens and capped by this.
     */
    readonly maxResponseBytes: number;
    readonly baseUrl?: string;
    readonly priceTablePath?: string;
    readonly vertex: { readonly project?: string; readonly location: string };
    readonly gemini: { readonly apiKey?: Secret };
    readonly openai: {
      readonly baseUrl?: string;
      readonly apiKey?: Secret;
      /**
       * Model-name prefixes (`o1`, `gpt-5`: the model itself, or it followed by `-`, `.`, `:`) of the reasoning models
       * an OpenAI-compatible upstream serves: they take `max_completion_tokens`, not `max_tokens`, and only the default
       * temperature (OPENAI_REASONING_MODELS).
       */
      readonly reasoningModels: readonly string[];
    };
    readonly simulated: {
      readonly seed: number;
      readonly latencyMedianMs: number;
      readonly latencySigma: number;
      readonly errorRate: number;
      readonly rateLimitRate: number;
      readonly timeoutRate: number;
      readonly slowRate: number;
      readonly emptyRate: number;
      readonly safetyBlockRate: number;
      /** Per-model profiles (SIM_MODEL_PROFILES): quality, latency and failures differ by model and request. */
      readonly modelProfiles: boolean;
    };
    readonly stress: { readonly maxInputChars: number; readonly maxCostUsd: number };
  };
  /** The model router (docs/router.md). */
  abstract readonly router: {
    readonly mode: 'off' | 'rules' | 'learned';
    /** Cheapest first; empty: LLM_MODEL alone. */
    readonly candidates: readonly string[];
    readonly exploration: number;
    readonly minHistory: number;
    /** Default constraints by endpoint (`*`: every endpoint); a request may only tighten them. */
    readonly constraints: Readonly<Record<string, RouteConstraints>>;
  };
  abstract readonly safety: {
    readonly redactPrompts: boolean;
    readonly injectionPolicy: 'flag' | 'block';
    readonly tokenAbuseMaxInputTokens: number;
  };
  abstract readonly ledger: {
    readonly dataDir: string;
    readonly databaseUrl?: Secret;
    /**
     * DATABASE_TIMEOUT_MS: how long the ledger, the incident outbox and the recommendations wait for PostgreSQL's
     * answer to each statement; twice that for a connection (new, or free in a pool where a burst queues).
     */
    readonly databaseTimeoutMs: number;
    readonly retentionDays: number;
    readonly flushMs: number;
    readonly storePreview: boolean;
  };
  abstract readonly budget: { readonly dailyUsd?: number; readonly policy: 'alert' | 'enforce' };
  /** The response cache (docs/cache.md): off, or exact-match answers for `ttlS` seconds, at most `maxEntries`. */
  abstract readonly cache: {
    readonly mode: 'off' | 'exact';
    readonly ttlS: number;
    readonly maxEntries: number;
    /** `key`: entries are partitioned by API key (CACHE_SCOPE); `shared`: every caller's answers serve every caller. */
    readonly scope: 'key' | 'shared';
  };
  abstract readonly health: {
    readonly latencySloMs: number;
    readonly costPerRequestUsd: number;
    /** Weight per component (performance, reliability, cost, quality, security); they sum to more than 0. */
    readonly weights: Readonly<Record<HealthComponentName, number>>;
    /** Length of the `5m` and `1h` windows (shorter in tests). */
    readonly windowShortMs: number;
    readonly windowLongMs: number;
    /** Window ends are multiples of this step, so every replica computes the same windows. */
    readonly windowStepMs: number;
    /** Gauges every this many ms; 0: off. */
    readonly intervalMs: number;
  };
  abstract readonly ml: {
    readonly modelsDir: string;
    readonly forecastRetrainHours: number;
    /** Refine quality with the provider's embeddings, asynchronously (vertex, gemini, openai only). */
    readonly remoteEmbeddings: boolean;
    /** Share of answers re-scored with the remote embeddings (off the response path). */
    readonly remoteEmbeddingsSampleRate: number;
    readonly embeddingsModel?: string;
  };
}

/** What a routed call must meet: each bound optional. */
export interface RouteConstraints {
  readonly minQuality?: number;
  readonly maxLatencyMs?: number;
  readonly maxCostUsd?: number;
}
