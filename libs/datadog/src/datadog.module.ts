import { Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { DatadogApiClientAdapter } from './adapters/datadog-api-client.adapter';
import { UnconfiguredDatadogApi } from './adapters/unconfigured-datadog-api.adapter';
import { DatadogApiPort } from './datadog-api.port';
import { DatadogIncidentsAdapter } from './incidents/datadog-incidents.adapter';
import { DatadogIncidentsPort } from './incidents/datadog-incidents.port';
import { UnconfiguredDatadogIncidents } from './incidents/unconfigured-incidents.adapter';

/** Picks the Datadog API adapter: the SDK when DD_API_KEY and DD_APP_KEY are set, else the unconfigured default. */
export function createDatadogApi(config: AppConfig): DatadogApiPort {
  return config.datadog.configured ? new DatadogApiClientAdapter(config) : new UnconfiguredDatadogApi();
}

/** Picks the incidents adapter: the SDK's v2 Incidents API with keys, else the unconfigured default (incidents stay queued). */
export function createDatadogIncidents(config: AppConfig): DatadogIncidentsPort {
  return config.datadog.configured ? new DatadogIncidentsAdapter(config) : new UnconfiguredDatadogIncidents();
}

/** Everything that talks to the Datadog REST API, behind `DatadogApiPort`. */
@Module({
  providers: [
    { provide: DatadogApiPort, inject: [AppConfig], useFactory: createDatadogApi },
    { provide: DatadogIncidentsPort, inject: [AppConfig], useFactory: createDatadogIncidents },
  ],
  exports: [DatadogApiPort, DatadogIncidentsPort],
})
export class DatadogModule {}
