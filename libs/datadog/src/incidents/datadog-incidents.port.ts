/** Datadog incident severities, most severe first. */
export const INCIDENT_SEVERITIES = ['SEV-1', 'SEV-2', 'SEV-3', 'SEV-4', 'SEV-5'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/**
 * The context facts an incident carries, each a textbox field in Datadog named `cp_<name>` (a closed list, so that
 * `npm run datadog:apply` can provision each one: `datadog/incident-fields/`; the `cp_` prefix keeps them apart from
 * the org's own fields). The idempotency key is the `control_plane_key` field.
 */
export const INCIDENT_CONTEXT_FIELDS = [
  'service',
  'env',
  'monitor',
  'monitor_id',
  'group',
  'source',
  'tags',
  'alert_count',
  'last_alert',
  'resolved_at',
  'note',
] as const;
export type IncidentContextField = (typeof INCIDENT_CONTEXT_FIELDS)[number];
export type IncidentContext = Readonly<Partial<Record<IncidentContextField, string>>>;

/** Per-call options: an abort signal (a caller that gives up on a call aborts it, so it cannot land later). */
export interface IncidentCallOptions {
  signal?: AbortSignal;
}

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
  /** Context facts (`service`, `env`, `monitor`, `group`, ...), bounded strings: the `cp_<name>` fields. */
  fields: IncidentContext;
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
  /** Context facts to set (`last_alert`, `alert_count`, `resolved_at`, ...). */
  fields?: IncidentContext;
  /**
   * Why the control plane made the change, for the people on the incident: the `note` field (`cp_note`), set after
   * the change and on its own, best effort (the change stands if Datadog refuses it, e.g. a field not provisioned).
   * Datadog records the field's change in the incident's timeline; the v2 API has no call that adds a timeline cell
   * to an incident after its creation.
   */
  note?: string;
  /** Links to attach to the incident (best effort, as the create's). */
  links?: readonly IncidentLink[];
}

/** What an update did not get through although the change was made (a note or a link Datadog refused). */
export interface IncidentUpdateResult {
  warnings?: readonly string[];
}

/**
 * Port: incidents in Datadog (v2 Incidents API, unstable operations in `@datadog/datadog-api-client`). The
 * incidents lib's outbox delivers through it. Errors are `DatadogApiError`: `retryable` says whether trying again
 * later can succeed (network errors, 408, 429, 5xx, missing or refused keys) or not (a 400 the payload will always get).
 */
export abstract class DatadogIncidentsPort {
  abstract readonly name: 'datadog' | 'unconfigured';
  /** Loads the SDK ahead of the first incident (about 1.3 s here), so that one is not slowed by it. Never throws. */
  abstract warmUp(): Promise<void>;
  /** The incident opened with this idempotency key, if any. */
  abstract findByKey(idempotencyKey: string, options?: IncidentCallOptions): Promise<DeliveredIncident | undefined>;
  abstract create(request: IncidentRequest, options?: IncidentCallOptions): Promise<DeliveredIncident>;
  /** Severity, state and fields in one call; then the note and the links, best effort (`warnings`). */
  abstract update(id: string, update: IncidentUpdate, options?: IncidentCallOptions): Promise<IncidentUpdateResult>;
}
