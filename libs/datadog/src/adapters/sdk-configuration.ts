import type { AppConfig } from '@app/config';

/** The SDK's module, loaded on first use (it is large: about 40 % of the boot CPU when loaded eagerly). */
export type DatadogSdk = typeof import('@datadog/datadog-api-client');
export type SdkConfiguration = ReturnType<DatadogSdk['client']['createConfiguration']>;

let sdk: Promise<DatadogSdk> | undefined;

/** Imports `@datadog/datadog-api-client` once per process. */
export function loadDatadogSdk(): Promise<DatadogSdk> {
  sdk ??= import('@datadog/datadog-api-client').then((loaded) => {
    // The SDK warns on stderr at every call of an unstable operation; they are enabled on purpose, by name.
    // (`logger` is loglevel's, untyped here.)
    (loaded.logger as { setLevel(level: 'error'): void }).setLevel('error');
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
  } = {},
): Promise<{ sdk: DatadogSdk; configuration: SdkConfiguration }> {
  const loaded = await loadDatadogSdk();
  const { apiKey, appKey, apiUrl } = config.datadog;
  const maxRetries = options.maxRetries ?? 2;
  const configuration = loaded.client.createConfiguration({
    authMethods: { apiKeyAuth: apiKey?.reveal() ?? '', appKeyAuth: appKey?.reveal() ?? '' },
    baseServer: new loaded.client.BaseServerConfiguration(apiUrl, {}),
    enableRetry: maxRetries > 0,
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
