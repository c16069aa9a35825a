import { Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { DatadogApiClientAdapter } from './adapters/datadog-api-client.adapter';
import { UnconfiguredDatadogApi } from './adapters/unconfigured-datadog-api.adapter';
import { DatadogApiPort } from './datadog-api.port';

/** Picks the Datadog API adapter: the SDK when DD_API_KEY and DD_APP_KEY are set, else the unconfigured default. */
export function createDatadogApi(config: AppConfig): DatadogApiPort {
  return config.datadog.configured ? new DatadogApiClientAdapter(config) : new UnconfiguredDatadogApi();
}

/** Everything that talks to the Datadog REST API, behind `DatadogApiPort`. */
@Module({
  providers: [{ provide: DatadogApiPort, inject: [AppConfig], useFactory: createDatadogApi }],
  exports: [DatadogApiPort],
})
export class DatadogModule {}
