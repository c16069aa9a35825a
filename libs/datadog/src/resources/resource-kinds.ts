/**
 * The kinds of Datadog resources kept as code under `datadog/`, one API payload per file, a directory per kind.
 * A kind's order here is the order of apply among files that do not reference each other: the incident field
 * and workflows first (monitors mention `@workflow-<handle>`), SLOs before the monitors and dashboard that use
 * their ids, on-call schedules before the escalation policies that target them.
 */
export const RESOURCE_KINDS = [
  'incident-field',
  'workflow',
  'slo',
  'monitor',
  'logs-pipeline',
  'synthetic',
  'dashboard',
  'notebook',
  'on-call-schedule',
  'on-call-escalation-policy',
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** The directory of each kind under `datadog/` (on-call holds two kinds, told apart by `data.type`). */
export const RESOURCE_DIRECTORIES: Readonly<Record<string, readonly ResourceKind[]>> = {
  'incident-fields': ['incident-field'],
  workflows: ['workflow'],
  slos: ['slo'],
  monitors: ['monitor'],
  'logs-pipelines': ['logs-pipeline'],
  synthetics: ['synthetic'],
  dashboards: ['dashboard'],
  notebooks: ['notebook'],
  'on-call': ['on-call-schedule', 'on-call-escalation-policy'],
};

/**
 * What a `[[<name>:<key>]]` reference resolves to: the id of the file `<key>` of that kind (created or found by
 * the apply tool). `monitor_id:llm-error-rate` is the id of `datadog/monitors/llm-error-rate.json`.
 */
export const REFERENCE_KINDS: Readonly<Record<string, ResourceKind>> = {
  monitor_id: 'monitor',
  slo_id: 'slo',
  dashboard_id: 'dashboard',
  notebook_id: 'notebook',
  workflow_id: 'workflow',
  schedule_id: 'on-call-schedule',
  escalation_policy_id: 'on-call-escalation-policy',
  synthetic_id: 'synthetic',
  logs_pipeline_id: 'logs-pipeline',
};

/** The tag every managed resource that has tags carries. */
export const MANAGED_TAG = 'managed-by:llm-control-plane';

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The kind of a file of `directory`, from its payload where the directory holds several kinds. */
export function kindOf(directory: string, payload: unknown): ResourceKind | undefined {
  const kinds = RESOURCE_DIRECTORIES[directory];
  if (!kinds) return undefined;
  if (kinds.length === 1) return kinds[0];
  const type = asRecord(asRecord(payload)?.data)?.type;
  if (type === 'schedules') return 'on-call-schedule';
  if (type === 'policies') return 'on-call-escalation-policy';
  return undefined;
}

/** The name a resource is found by: `title` of a dashboard, `data.attributes.name` of a v2 payload, else `name`. */
export function nameOf(kind: ResourceKind, payload: unknown): string | undefined {
  const record = asRecord(payload);
  let name: unknown;
  if (kind === 'dashboard') name = record?.title;
  else if (record && 'data' in record) name = asRecord(asRecord(record.data)?.attributes)?.name;
  else name = record?.name;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}
