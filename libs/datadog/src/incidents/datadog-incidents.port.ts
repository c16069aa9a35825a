/** Datadog incident severities, most severe first. */
export const INCIDENT_SEVERITIES = ['SEV-1', 'SEV-2', 'SEV-3', 'SEV-4', 'SEV-5'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/** A link shown on the incident (dashboard, logs query, traces query, monitor). */
export interface IncidentLink {
  title: string;
  url: string;
}

/** Everything needed to open one incident in Datadog (v2 Incidents API). */
export interface IncidentRequest {
  /**
   * Derived from the outbox row's id: stored in the incident's `control_plane_key` field so that a retry after a
   * lost response finds the incident it already opened (`findByKey`) instead of opening a second one.
   */
  idempotencyKey: string;
  title: string;
  severity: IncidentSeverity;
  customerImpacted: boolean;
  /** What customers see, required by Datadog when `customerImpacted`. */
  customerImpactScope?: string;
  /** Extra textbox fields (`service`, `env`, `monitor`, `group`, ...), bounded strings. */
  fields: Readonly<Record<string, string>>;
  /** The runbook in markdown: the incident's first timeline cell. */
  runbookMarkdown: string;
  links: readonly IncidentLink[];
  /** `@handles` notified when the incident opens. */
  notificationHandles: readonly string[];
}

/** An incident Datadog holds. */
export interface DeliveredIncident {
  /** Datadog's incident id (uuid). */
  id: string;
  /** The short number shown in the UI (`IR-123`), when Datadog returns it. */
  publicId?: number;
  /** Link to the incident in the Datadog web app. */
  url: string;
  /** What did not go through although the incident was opened (a link attachment Datadog refused). */
  warnings?: readonly string[];
}

/** A change to an open incident: a re-alert (severity may rise) or a recovery (state resolved). */
export interface IncidentUpdate {
  severity?: IncidentSeverity;
  state?: 'active' | 'stable' | 'resolved';
  /** Textbox fields to set (`last_alert`, `alert_count`, ...). */
  fields?: Readonly<Record<string, string>>;
}

/**
 * Port: incidents in Datadog (v2 Incidents API, unstable operations in `@datadog/datadog-api-client`). The
 * incidents lib's outbox delivers through it. Errors are `DatadogApiError`: `retryable` says whether trying again
 * later can succeed (network errors, 408, 429, 5xx, missing or refused keys) or not (a 400 the payload will always get).
 */
export abstract class DatadogIncidentsPort {
  abstract readonly name: 'datadog' | 'unconfigured';
  /** The incident opened with this idempotency key, if any. */
  abstract findByKey(idempotencyKey: string): Promise<DeliveredIncident | undefined>;
  abstract create(request: IncidentRequest): Promise<DeliveredIncident>;
  abstract update(id: string, update: IncidentUpdate): Promise<void>;
}
