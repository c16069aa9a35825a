import type { AppConfig } from '@app/config';
import { SdkPayloadChecker } from './adapters/sdk-models';
import { SdkResourcesAdapter } from './adapters/sdk-resources.adapter';
import type { DatadogResourcesPort, ResourcePayloadChecker } from './datadog-resources.port';

/**
 * The resources API with DD_API_KEY and DD_APP_KEY, else undefined (a dry run then plans without lookups).
 * `callTimeoutMs` bounds each operation (default 120 s).
 */
export function createDatadogResources(
  config: AppConfig,
  options: { callTimeoutMs?: number } = {},
): DatadogResourcesPort | undefined {
  return config.datadog.configured ? new SdkResourcesAdapter(config, options.callTimeoutMs) : undefined;
}

/** Checks payloads against the SDK's models (offline). */
export function createResourcePayloadChecker(): ResourcePayloadChecker {
  return new SdkPayloadChecker();
}
