import type { ResourceKind } from './resource-kinds';

/** A resource Datadog holds, found by its name. */
export interface ExistingResource {
  id: string;
  /**
   * The resource in the shape of the payload files (the API's JSON, the request's structure), for comparison with
   * a file: every field the file sets must be equal here; fields Datadog adds (ids, defaults, dates) are ignored.
   */
  comparable: unknown;
}

/**
 * Port: the Datadog configuration API for the resources kept as code (`datadog/`): monitors, SLOs, dashboards,
 * logs pipelines, synthetics, notebooks, workflows, on-call schedules and escalation policies, the incident field.
 * Only its adapter imports the SDK. Errors are `DatadogApiError` and name the operation, never a key.
 */
export abstract class DatadogResourcesPort {
  /** The resource of this kind named `name` (exactly), if Datadog holds one. */
  abstract find(kind: ResourceKind, name: string): Promise<ExistingResource | undefined>;
  /** Creates the resource; returns its id (a monitor's number as a string, a synthetic's public id, ...). */
  abstract create(kind: ResourceKind, payload: unknown): Promise<string>;
  /** Replaces the resource `id` with the payload. */
  abstract update(kind: ResourceKind, id: string, payload: unknown): Promise<void>;
  /** The id of the org's default incident type (the incident field belongs to it). */
  abstract defaultIncidentTypeId(): Promise<string>;
}

/**
 * Checks payloads against the SDK's own models without calling Datadog: each problem is a field the SDK does not
 * know (it would be sent as an unchecked extra), a value outside an enum, or a missing required field.
 */
export abstract class ResourcePayloadChecker {
  abstract check(kind: ResourceKind, payload: unknown): Promise<string[]>;
}
