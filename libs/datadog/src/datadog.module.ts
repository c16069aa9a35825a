import { Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { DatadogApiClientAdapter } from './adapters/datadog-api-client.adapter';
import { UnconfiguredDatadogApi } from './adapters/unconfigured-datadog-api.adapter';
import { DatadogApiPort } from './datadog-api.port';
import { DatadogIncidentsAdapter } from './incidents/datadog-incidents.adapter';
import { DatadogIncidentsPort } from './incidents/datadog-incidents.port';
import { UnconfiguredDatadogIncidents } from './incidents/unconfigured-incidents.adapter';
import { DatadogIntegrationsClientAdapter } from './integrations/adapters/datadog-integrations-client.adapter';
import { UnconfiguredDatadogIntegrations } from './integrations/adapters/unconfigured-datadog-integrations.adapter';
import { DatadogIntegrationsController } from './integrations/datadog-integrations.controller';
import { DatadogIntegrationsPort } from './integrations/datadog-integrations.port';
import { DatadogIntegrationsService } from './integrations/datadog-integrations.service';
import { DatadogProductsService } from './integrations/datadog-products.service';
import { IntegrationTemplates } from './integrations/integration-templates';

/** Picks the Datadog API adapter: the SDK when DD_API_KEY and DD_APP_KEY are set, else the unconfigured default. */
export function createDatadogApi(config: AppConfig): DatadogApiPort {
  return config.datadog.configured ? new DatadogApiClientAdapter(config) : new UnconfiguredDatadogApi();
}

/** Picks the incidents adapter: the SDK's v2 Incidents API with keys, else the unconfigured default (incidents stay queued). */
export function createDatadogIncidents(config: AppConfig): DatadogIncidentsPort {
  return config.datadog.configured ? new DatadogIncidentsAdapter(config) : new UnconfiguredDatadogIncidents();
}

/** Picks the integrations adapter (synthetics, notebooks, workflows, key check): the SDK with keys, else the unconfigured default. */
export function createDatadogIntegrations(config: AppConfig): DatadogIntegrationsPort {
  return config.datadog.configured
    ? new DatadogIntegrationsClientAdapter(config)
    : new UnconfiguredDatadogIntegrations();
}

/** Everything that talks to the Datadog REST API, behind `DatadogApiPort`. */
@Module({
  providers: [
    { provide: DatadogApiPort, inject: [AppConfig], useFactory: createDatadogApi },
    { provide: DatadogIncidentsPort, inject: [AppConfig], useFactory: createDatadogIncidents },
    { provide: DatadogIntegrationsPort, inject: [AppConfig], useFactory: createDatadogIntegrations },
    // The payload files under datadog/, read at boot: a missing one stops the boot with its path.
    { provide: IntegrationTemplates, useFactory: () => IntegrationTemplates.load() },
    DatadogIntegrationsService,
    DatadogProductsService,
  ],
  controllers: [DatadogIntegrationsController],
  exports: [DatadogApiPort, DatadogIncidentsPort, DatadogIntegrationsPort],
})
export class DatadogModule {}
