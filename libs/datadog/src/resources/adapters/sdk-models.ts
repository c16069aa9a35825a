import type { DatadogSdk } from '../../adapters/sdk-configuration';
import { loadDatadogSdk } from '../../adapters/sdk-configuration';
import { ResourcePayloadChecker } from '../datadog-resources.port';
import type { ResourceKind } from '../resource-kinds';

/** The SDK model names of one kind: the create request, the update request, and what a read returns. */
export interface KindModels {
  api: 'v1' | 'v2';
  create: string;
  update: string;
  read: string;
}

/** The models of each kind; a synthetic's depend on its `type` (api or browser). */
export function modelsOf(kind: ResourceKind, payload?: unknown): KindModels {
  switch (kind) {
    case 'monitor':
      return { api: 'v1', create: 'Monitor', update: 'MonitorUpdateRequest', read: 'Monitor' };
    case 'slo':
      return {
        api: 'v1',
        create: 'ServiceLevelObjectiveRequest',
        update: 'ServiceLevelObjective',
        read: 'ServiceLevelObjective',
      };
    case 'dashboard':
      return { api: 'v1', create: 'Dashboard', update: 'Dashboard', read: 'Dashboard' };
    case 'logs-pipeline':
      return { api: 'v1', create: 'LogsPipeline', update: 'LogsPipeline', read: 'LogsPipeline' };
    case 'synthetic': {
      const type = (payload as { type?: unknown } | undefined)?.type;
      const model = type === 'browser' ? 'SyntheticsBrowserTest' : 'SyntheticsAPITest';
      return { api: 'v1', create: model, update: model, read: model };
    }
    case 'notebook':
      return { api: 'v1', create: 'NotebookCreateRequest', update: 'NotebookUpdateRequest', read: 'NotebookResponse' };
    case 'workflow':
      return {
        api: 'v2',
        create: 'CreateWorkflowRequest',
        update: 'UpdateWorkflowRequest',
        read: 'GetWorkflowResponse',
      };
    case 'on-call-schedule':
      return { api: 'v2', create: 'ScheduleCreateRequest', update: 'ScheduleUpdateRequest', read: 'Schedule' };
    case 'on-call-escalation-policy':
      return {
        api: 'v2',
        create: 'EscalationPolicyCreateRequest',
        update: 'EscalationPolicyUpdateRequest',
        read: 'EscalationPolicy',
      };
    case 'incident-field':
      return {
        api: 'v2',
        create: 'IncidentUserDefinedFieldCreateRequest',
        update: 'IncidentUserDefinedFieldUpdateRequest',
        read: 'IncidentUserDefinedFieldResponse',
      };
  }
}

interface Serializer {
  serialize(data: unknown, type: string, format: string): unknown;
  deserialize(data: unknown, type: string, format?: string): unknown;
}

function serializerOf(sdk: DatadogSdk, api: 'v1' | 'v2'): Serializer {
  return api === 'v1' ? sdk.v1.ObjectSerializer : sdk.v2.ObjectSerializer;
}

/** API JSON (snake_case) to the SDK's model object; throws on a missing required field. */
export function toModel<T>(sdk: DatadogSdk, api: 'v1' | 'v2', type: string, payload: unknown): T {
  return serializerOf(sdk, api).deserialize(payload, type, '') as T;
}

/** The SDK's model object back to API JSON (snake_case), as it is sent or as a file holds it. */
export function toJson(sdk: DatadogSdk, api: 'v1' | 'v2', type: string, model: unknown): unknown {
  return JSON.parse(JSON.stringify(serializerOf(sdk, api).serialize(model, type, ''))) as unknown;
}

/**
 * Every place where the SDK did not recognise the payload: extra fields (kept aside in `additionalProperties`),
 * values it could not parse (`_unparsed`, an `UnparsedObject`: an enum value it does not know, a oneOf that
 * matches no variant or several).
 */
export function unparsedPaths(model: unknown, path = ''): string[] {
  if (typeof model !== 'object' || model === null) return [];
  const here = path || '(root)';
  const found: string[] = [];
  if (model.constructor?.name === 'UnparsedObject') return [`${here}: not a value the SDK knows`];
  if (Array.isArray(model)) {
    model.forEach((item, i) => found.push(...unparsedPaths(item, `${path}[${i}]`)));
    return found;
  }
  const record = model as Record<string, unknown>;
  const extra = record.additionalProperties;
  if (extra && typeof extra === 'object' && Object.keys(extra).length > 0) {
    found.push(`${here}: unknown fields ${Object.keys(extra).join(', ')}`);
  }
  for (const [key, value] of Object.entries(record)) {
    if (key === 'additionalProperties' || key === '_unparsed') continue;
    found.push(...unparsedPaths(value, path ? `${path}.${key}` : key));
  }
  if (record._unparsed === true && found.length === 0) found.push(`${here}: a value the SDK could not parse`);
  return found;
}

/** Deserialises a payload with the SDK's own model of its kind; returns what the SDK did not recognise. */
export function checkWithSdk(sdk: DatadogSdk, kind: ResourceKind, payload: unknown): string[] {
  const models = modelsOf(kind, payload);
  try {
    return unparsedPaths(toModel(sdk, models.api, models.create, payload));
  } catch (error) {
    return [`${models.create}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

/** `ResourcePayloadChecker` on the SDK's ObjectSerializer (no network: works without keys). */
export class SdkPayloadChecker extends ResourcePayloadChecker {
  async check(kind: ResourceKind, payload: unknown): Promise<string[]> {
    return checkWithSdk(await loadDatadogSdk(), kind, payload);
  }
}
