import type { AppConfig } from '@app/config';
import { SdkPayloadChecker } from './adapters/sdk-models';
import { SdkResourcesAdapter } from './adapters/sdk-resources.adapter';
import type { DatadogResourcesPort, ResourcePayloadChecker } from './datadog-resources.port';

/** The resources API with DD_API_KEY and DD_APP_KEY, else undefined (a dry run then plans without lookups). */
export function createDatadogResources(config: AppConfig): DatadogResourcesPort | undefined {
  return config.datadog.configured ? new SdkResourcesAdapter(config) : undefined;
}

/** Checks payloads against the SDK's models (offline). */
export function createResourcePayloadChecker(): ResourcePayloadChecker {
  return new SdkPayloadChecker();
}
