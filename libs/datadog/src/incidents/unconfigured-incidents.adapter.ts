import { DatadogApiError } from '../datadog.errors';
import { DatadogIncidentsPort, type DeliveredIncident, type IncidentUpdateResult } from './datadog-incidents.port';

const MISSING = 'Datadog API keys not configured: set DD_API_KEY and DD_APP_KEY (and DD_SITE or DATADOG_API_URL)';

/**
 * The local default without DD_API_KEY and DD_APP_KEY: every call is refused with a retryable error, so incidents
 * stay queued in the outbox (and are delivered once the service runs with keys), never reported as created.
 */
export class UnconfiguredDatadogIncidents extends DatadogIncidentsPort {
  readonly name = 'unconfigured';

  warmUp(): Promise<void> {
    return Promise.resolve();
  }

  findByKey(): Promise<DeliveredIncident | undefined> {
    return Promise.reject(new DatadogApiError('incident search', MISSING, { retryable: true }));
  }

  create(): Promise<DeliveredIncident> {
    return Promise.reject(new DatadogApiError('incident create', MISSING, { retryable: true }));
  }

  update(): Promise<IncidentUpdateResult> {
    return Promise.reject(new DatadogApiError('incident update', MISSING, { retryable: true }));
  }
}
