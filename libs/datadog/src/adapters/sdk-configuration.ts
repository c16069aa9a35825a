import type { AppConfig } from '@app/config';

/** The SDK's module, loaded on first use (it is large: about 40 % of the boot CPU when loaded eagerly). */
export type DatadogSdk = typeof import('@datadog/datadog-api-client');
export type SdkConfiguration = ReturnType<DatadogSdk['client']['createConfiguration']>;

let sdk: Promise<DatadogSdk> | undefined;

/** Imports `@datadog/datadog-api-client` once per process. */
export function loadDatadogSdk(): Promise<DatadogSdk> {
  sdk ??= import('@datadog/datadog-api-client').then((loaded) => {
    // The SDK's own logger is silenced: it warns on stderr at every call of an unstable operation (enabled on
    // purpose, by name), and it printed a stack trace on stderr for every request that got no answer (13 lines,
    // not JSON, each line a log event of its own), once per delivery attempt for as long as Datadog was down.
    // Every caller reports its failures itself, as one structured line (the delivery worker, the routes' problems).
    // (`logger` is loglevel's, untyped here.)
    (loaded.logger as { setLevel(level: 'silent'): void }).setLevel('silent');
    return loaded;
  });
  return sdk;
}

/**
 * One SDK configuration for every adapter of this lib: the keys from config (revealed only here), the base URL
 * DATADOG_API_URL (https://api.<DD_SITE> by default; a loopback server in tests), the SDK's own retries on 429
 * and 5xx, and the unstable operations the caller uses enabled by name (every v2 Incidents call is one). With
 * `timeoutMs` the configuration carries an abort signal that starts now: make one per call.
 */
export async function createSdkConfiguration(
  config: AppConfig,
  options: {
    unstableOperations?: readonly string[];
    maxRetries?: number;
    timeoutMs?: number;
    /** Aborts the call(s) made with this configuration (with `timeoutMs`, whichever comes first). */
    signal?: AbortSignal;
    /**
     * Which answers the SDK retries (up to `maxRetries`): `all` (429 and 5xx, the SDK's own rule), or
     * `rate-limited` (429 only). A create must not be retried on a 5xx: Datadog may have made the resource
     * before failing, and a retry would make a second one; a 429 is a refusal, safe to retry.
     */
    retry?: 'all' | 'rate-limited';
  } = {},
): Promise<{ sdk: DatadogSdk; configuration: SdkConfiguration }> {
  const loaded = await loadDatadogSdk();
  const { apiKey, appKey, apiUrl } = config.datadog;
  const maxRetries = options.maxRetries ?? 2;
  const rateLimitedOnly = options.retry === 'rate-limited' && maxRetries > 0;
  const configuration = loaded.client.createConfiguration({
    authMethods: { apiKeyAuth: apiKey?.reveal() ?? '', appKeyAuth: appKey?.reveal() ?? '' },
    baseServer: new loaded.client.BaseServerConfiguration(apiUrl, {}),
    // The SDK's retry rule cannot leave out 5xx: for `rate-limited`, its retries are off and the HTTP library
    // below retries 429 alone.
    ...(rateLimitedOnly
      ? { httpApi: new RateLimitedRetries(new loaded.client.IsomorphicFetchHttpLibrary(), maxRetries) }
      : {}),
    enableRetry: maxRetries > 0 && !rateLimitedOnly,
    maxRetries,
    // A configuration made with a timeout is for one call (the signal starts now).
    ...(options.timeoutMs || options.signal ? { httpConfig: { signal: callSignal(options) } } : {}),
  });
  for (const operation of options.unstableOperations ?? []) configuration.unstableOperations[operation] = true;
  return { sdk: loaded, configuration };
}

function callSignal(options: { timeoutMs?: number; signal?: AbortSignal }): AbortSignal {
  const signals = [
    ...(options.timeoutMs ? [AbortSignal.timeout(options.timeoutMs)] : []),
    ...(options.signal ? [options.signal] : []),
  ];
  return signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
}

type HttpLibrary = InstanceType<DatadogSdk['client']['IsomorphicFetchHttpLibrary']>;
type RequestContext = Parameters<HttpLibrary['send']>[0];
type ResponseContext = Awaited<ReturnType<HttpLibrary['send']>>;

/** Longest wait for a rate limit to reset before the next attempt. */
const MAX_RATE_LIMIT_WAIT_S = 60;

/**
 * An HTTP library for the SDK that retries a 429 only (up to `retries` times), waiting what Datadog's
 * `X-RateLimit-Reset` says (seconds, at most 60), else 2, 4, 8 s as the SDK does. Every other answer is returned
 * as it came.
 */
class RateLimitedRetries {
  constructor(
    private readonly inner: HttpLibrary,
    private readonly retries: number,
  ) {}

  async send(request: RequestContext): Promise<ResponseContext> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.inner.send(request);
      if (response.httpStatusCode !== 429 || attempt >= this.retries) return response;
      const reset = Number.parseInt(response.headers['x-ratelimit-reset'] ?? '', 10);
      const seconds =
        Number.isFinite(reset) && reset >= 0 ? Math.min(reset, MAX_RATE_LIMIT_WAIT_S) : 2 ** (attempt + 1);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}
