import type { v1, v2 } from '@datadog/datadog-api-client';
import type { AppConfig } from '@app/config';
import { createSdkConfiguration, type DatadogSdk, type SdkConfiguration } from '../../adapters/sdk-configuration';
import { DatadogApiError } from '../../datadog.errors';
import { DatadogResourcesPort, type ExistingResource } from '../datadog-resources.port';
import type { ResourceKind } from '../resource-kinds';
import { modelsOf, toJson, toModel } from './sdk-models';

/** The v2 Incidents configuration calls are unstable operations in the SDK and must be enabled by name. */
const UNSTABLE_OPERATIONS = [
  'v2.listIncidentTypes',
  'v2.listIncidentUserDefinedFields',
  'v2.createIncidentUserDefinedField',
  'v2.updateIncidentUserDefinedField',
] as const;
const PAGE_SIZE = 100;
/** How long one operation (a lookup with its pages, a create, an update) may take, its retries included. */
export const RESOURCE_CALL_TIMEOUT_MS = 120_000;
/** Pages read at most when listing (10,000 resources of one kind). */
const MAX_PAGES = 100;

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/**
 * The first item of a listing the SDK pages through (its `...WithPagination` generators ask for the next page while
 * a page is full) that matches; at most `MAX_PAGES` pages are read.
 */
async function findPaged<T>(items: AsyncIterable<T>, match: (item: T) => boolean): Promise<T | undefined> {
  let seen = 0;
  for await (const item of items) {
    if (match(item)) return item;
    if (++seen >= MAX_PAGES * PAGE_SIZE) return undefined;
  }
  return undefined;
}

/** The payload with `data.id` set (v2 update requests name the resource in their body too). */
function withDataId(payload: unknown, id: string): Json {
  const body = record(payload);
  return { ...body, data: { ...record(body.data), id } };
}

/**
 * `DatadogResourcesPort` on `@datadog/datadog-api-client` at DATADOG_API_URL. Resources are found by exact name
 * (listing with the API's own filter where it has one); what is found is turned back into the payload files'
 * shape (the SDK's models serialised to API JSON; on-call layers and steps from the response's `included`).
 */
export class SdkResourcesAdapter extends DatadogResourcesPort {
  constructor(
    private readonly config: AppConfig,
    private readonly callTimeoutMs = RESOURCE_CALL_TIMEOUT_MS,
  ) {
    super();
    if (!config.datadog.configured) throw new Error('SdkResourcesAdapter needs DD_API_KEY and DD_APP_KEY');
  }

  /**
   * A configuration for one operation: aborted after `callTimeoutMs` (a Datadog that does not answer fails the
   * file instead of hanging the apply). Lookups and updates (a PUT says the whole resource: repeating it is
   * harmless) are retried on 429 and 5xx; a create on 429 only, since after a 5xx it may exist already.
   */
  private async sdk(
    write: 'create' | 'other' = 'other',
  ): Promise<{ sdk: DatadogSdk; configuration: SdkConfiguration }> {
    return createSdkConfiguration(this.config, {
      unstableOperations: UNSTABLE_OPERATIONS,
      timeoutMs: this.callTimeoutMs,
      retry: write === 'create' ? 'rate-limited' : 'all',
    });
  }

  async find(kind: ResourceKind, name: string): Promise<ExistingResource | undefined> {
    return call(`${kind} lookup`, () => this.lookup(kind, name));
  }

  async create(kind: ResourceKind, payload: unknown): Promise<string> {
    return call(`${kind} create`, () => this.write(kind, undefined, payload));
  }

  async update(kind: ResourceKind, id: string, payload: unknown): Promise<void> {
    await call(`${kind} update`, () => this.write(kind, id, payload));
  }

  async defaultIncidentTypeId(): Promise<string> {
    return call('incident type lookup', async () => {
      const { sdk, configuration } = await this.sdk();
      const types = await new sdk.v2.IncidentsApi(configuration).listIncidentTypes({});
      const all = types.data ?? [];
      const chosen = all.find((t) => t.attributes?.isDefault) ?? all[0];
      if (!chosen?.id) throw new Error('the org has no incident type');
      return chosen.id;
    });
  }

  private async lookup(kind: ResourceKind, name: string): Promise<ExistingResource | undefined> {
    const { sdk, configuration } = await this.sdk();
    const json = (model: unknown): unknown => toJson(sdk, modelsOf(kind).api, modelsOf(kind).read, model);
    switch (kind) {
      case 'monitor': {
        const api = new sdk.v1.MonitorsApi(configuration);
        const found = await findPaged(
          api.listMonitorsWithPagination({ name, pageSize: PAGE_SIZE }),
          (m) => m.name === name,
        );
        return found?.id === undefined ? undefined : { id: String(found.id), comparable: json(found) };
      }
      case 'slo': {
        const api = new sdk.v1.ServiceLevelObjectivesApi(configuration);
        const found = await findPaged(
          api.listSLOsWithPagination({ query: name, limit: PAGE_SIZE }),
          (s) => s.name === name,
        );
        return found?.id ? { id: found.id, comparable: json(found) } : undefined;
      }
      case 'dashboard': {
        const api = new sdk.v1.DashboardsApi(configuration);
        const found = await findPaged(
          api.listDashboardsWithPagination({ filterShared: false, count: PAGE_SIZE }),
          (d) => d.title === name,
        );
        if (!found?.id) return undefined;
        return { id: found.id, comparable: json(await api.getDashboard({ dashboardId: found.id })) };
      }
      case 'logs-pipeline': {
        const api = new sdk.v1.LogsPipelinesApi(configuration);
        const found = (await api.listLogsPipelines()).find((p) => p.name === name);
        return found?.id ? { id: found.id, comparable: json(found) } : undefined;
      }
      case 'synthetic': {
        const api = new sdk.v1.SyntheticsApi(configuration);
        for (let pageNumber = 0; pageNumber < MAX_PAGES; pageNumber++) {
          const tests = (await api.listTests({ pageSize: PAGE_SIZE, pageNumber })).tests ?? [];
          const found = tests.find((t) => t.name === name);
          if (found?.publicId) {
            const publicId = found.publicId;
            const full =
              found.type === 'browser'
                ? toJson(sdk, 'v1', 'SyntheticsBrowserTest', await api.getBrowserTest({ publicId }))
                : toJson(sdk, 'v1', 'SyntheticsAPITest', await api.getAPITest({ publicId }));
            return { id: publicId, comparable: full };
          }
          if (tests.length < PAGE_SIZE) return undefined;
        }
        return undefined;
      }
      case 'notebook': {
        const api = new sdk.v1.NotebooksApi(configuration);
        const found = await findPaged(
          api.listNotebooksWithPagination({ query: name, includeCells: false, count: PAGE_SIZE }),
          (n) => n.attributes?.name === name,
        );
        if (found?.id === undefined) return undefined;
        return { id: String(found.id), comparable: json(await api.getNotebook({ notebookId: found.id })) };
      }
      case 'workflow': {
        const api = new sdk.v2.WorkflowAutomationApi(configuration);
        for (let page = 0; page < MAX_PAGES; page++) {
          const items =
            (await api.listWorkflows({ limit: PAGE_SIZE, page, filterIncludeUnpublished: true })).data ?? [];
          const found = items.find((w) => w.attributes?.name === name);
          if (found?.id) return { id: found.id, comparable: json(await api.getWorkflow({ workflowId: found.id })) };
          if (items.length < PAGE_SIZE) return undefined;
        }
        return undefined;
      }
      case 'on-call-schedule': {
        const api = new sdk.v2.OnCallApi(configuration);
        for (let pageNumber = 0; pageNumber < MAX_PAGES; pageNumber++) {
          const items = (await api.listOnCallSchedules({ pageSize: PAGE_SIZE, pageNumber })).data ?? [];
          const found = items.find((s) => s.attributes?.name === name);
          if (found?.id) {
            const full = await api.getOnCallSchedule({ scheduleId: found.id, include: 'layers,layers.members.user' });
            return { id: found.id, comparable: scheduleComparable(json(full)) };
          }
          if (items.length < PAGE_SIZE) return undefined;
        }
        return undefined;
      }
      case 'on-call-escalation-policy': {
        const id = await this.findEscalationPolicy(sdk, configuration, name);
        if (!id) return undefined;
        const api = new sdk.v2.OnCallApi(configuration);
        const full = await api.getOnCallEscalationPolicy({ policyId: id, include: 'steps,steps.targets' });
        return { id, comparable: escalationPolicyComparable(json(full)) };
      }
      case 'incident-field': {
        const api = new sdk.v2.IncidentsApi(configuration);
        // No `WithPagination` call in the SDK for these: page[number] from 0 while pages are full.
        for (let pageNumber = 0; pageNumber < MAX_PAGES; pageNumber++) {
          const fields = (await api.listIncidentUserDefinedFields({ pageSize: PAGE_SIZE, pageNumber })).data ?? [];
          const found = fields.find((f) => f.attributes?.name === name);
          if (found?.id) {
            return { id: found.id, comparable: toJson(sdk, 'v2', 'IncidentUserDefinedFieldResponse', { data: found }) };
          }
          if (fields.length < PAGE_SIZE) return undefined;
        }
        return undefined;
      }
    }
  }

  /**
   * SDK 1.64 has no call to list escalation policies (the API does: GET /api/v2/on-call/escalation-policies), so
   * this one request goes through the SDK's own HTTP library, authentication and base URL.
   */
  private async findEscalationPolicy(
    sdk: DatadogSdk,
    configuration: SdkConfiguration,
    name: string,
  ): Promise<string | undefined> {
    for (let pageNumber = 0; pageNumber < MAX_PAGES; pageNumber++) {
      const context = configuration
        .getServer('v2.OnCallApi.getOnCallEscalationPolicy')
        .makeRequestContext('/api/v2/on-call/escalation-policies', sdk.client.HttpMethod.GET);
      context.setQueryParam('page[size]', String(PAGE_SIZE), '');
      context.setQueryParam('page[number]', String(pageNumber), '');
      context.setHeaderParam('Accept', 'application/json');
      context.setHttpConfig(configuration.httpConfig);
      configuration.authMethods.apiKeyAuth?.applySecurityAuthentication(context);
      configuration.authMethods.appKeyAuth?.applySecurityAuthentication(context);
      const response = await configuration.httpApi.send(context);
      const text = await response.body.text();
      if (response.httpStatusCode >= 300) {
        throw new DatadogApiError('escalation policy list', `HTTP ${response.httpStatusCode}`, {
          status: response.httpStatusCode,
        });
      }
      const items = list(record(JSON.parse(text || '{}')).data);
      const found = items.find((p) => record(record(p).attributes).name === name);
      if (found) return String(record(found).id);
      if (items.length < PAGE_SIZE) return undefined;
    }
    return undefined;
  }

  private async write(kind: ResourceKind, id: string | undefined, payload: unknown): Promise<string> {
    const { sdk, configuration } = await this.sdk(id ? 'other' : 'create');
    const models = modelsOf(kind, payload);
    const createModel = <T>(): T => toModel<T>(sdk, models.api, models.create, payload);
    const updateModel = <T>(body: unknown = payload): T => toModel<T>(sdk, models.api, models.update, body);
    switch (kind) {
      case 'monitor': {
        const api = new sdk.v1.MonitorsApi(configuration);
        if (id) return String((await api.updateMonitor({ monitorId: Number(id), body: updateModel() })).id ?? id);
        return String((await api.createMonitor({ body: createModel<v1.Monitor>() })).id);
      }
      case 'slo': {
        const api = new sdk.v1.ServiceLevelObjectivesApi(configuration);
        if (id) {
          await api.updateSLO({ sloId: id, body: updateModel<v1.ServiceLevelObjective>() });
          return id;
        }
        const created = (await api.createSLO({ body: createModel<v1.ServiceLevelObjectiveRequest>() })).data ?? [];
        return required(created[0]?.id, 'SLO id');
      }
      case 'dashboard': {
        const api = new sdk.v1.DashboardsApi(configuration);
        if (id) return (await api.updateDashboard({ dashboardId: id, body: updateModel<v1.Dashboard>() })).id ?? id;
        return required((await api.createDashboard({ body: createModel<v1.Dashboard>() })).id, 'dashboard id');
      }
      case 'logs-pipeline': {
        const api = new sdk.v1.LogsPipelinesApi(configuration);
        if (id)
          return (await api.updateLogsPipeline({ pipelineId: id, body: updateModel<v1.LogsPipeline>() })).id ?? id;
        return required((await api.createLogsPipeline({ body: createModel<v1.LogsPipeline>() })).id, 'pipeline id');
      }
      case 'synthetic': {
        const api = new sdk.v1.SyntheticsApi(configuration);
        if (models.create === 'SyntheticsBrowserTest') {
          const body = createModel<v1.SyntheticsBrowserTest>();
          if (id) return (await api.updateBrowserTest({ publicId: id, body })).publicId ?? id;
          return required((await api.createSyntheticsBrowserTest({ body })).publicId, 'test public id');
        }
        const body = createModel<v1.SyntheticsAPITest>();
        if (id) return (await api.updateAPITest({ publicId: id, body })).publicId ?? id;
        return required((await api.createSyntheticsAPITest({ body })).publicId, 'test public id');
      }
      case 'notebook': {
        const api = new sdk.v1.NotebooksApi(configuration);
        if (id) {
          await api.updateNotebook({ notebookId: Number(id), body: updateModel<v1.NotebookUpdateRequest>() });
          return id;
        }
        const created = await api.createNotebook({ body: createModel<v1.NotebookCreateRequest>() });
        return String(required(created.data?.id, 'notebook id'));
      }
      case 'workflow': {
        const api = new sdk.v2.WorkflowAutomationApi(configuration);
        if (id) {
          await api.updateWorkflow({
            workflowId: id,
            body: updateModel<v2.UpdateWorkflowRequest>(withDataId(payload, id)),
          });
          return id;
        }
        return required(
          (await api.createWorkflow({ body: createModel<v2.CreateWorkflowRequest>() })).data.id,
          'workflow id',
        );
      }
      case 'on-call-schedule': {
        const api = new sdk.v2.OnCallApi(configuration);
        if (id) {
          await api.updateOnCallSchedule({
            scheduleId: id,
            body: updateModel<v2.ScheduleUpdateRequest>(withDataId(payload, id)),
          });
          return id;
        }
        return required(
          (await api.createOnCallSchedule({ body: createModel<v2.ScheduleCreateRequest>() })).data?.id,
          'schedule id',
        );
      }
      case 'on-call-escalation-policy': {
        const api = new sdk.v2.OnCallApi(configuration);
        if (id) {
          await api.updateOnCallEscalationPolicy({
            policyId: id,
            body: updateModel<v2.EscalationPolicyUpdateRequest>(withDataId(payload, id)),
          });
          return id;
        }
        const created = await api.createOnCallEscalationPolicy({
          body: createModel<v2.EscalationPolicyCreateRequest>(),
        });
        return required(created.data?.id, 'escalation policy id');
      }
      case 'incident-field': {
        const api = new sdk.v2.IncidentsApi(configuration);
        if (id) {
          // The update request takes the descriptive attributes only (not the name, type or incident type).
          const data = record(record(payload).data);
          const {
            display_name,
            category,
            collected,
            default_value,
            ordinal,
            required: isRequired,
            valid_values,
          } = record(data.attributes);
          const attributes = {
            display_name,
            category,
            collected,
            default_value,
            ordinal,
            required: isRequired,
            valid_values,
          };
          const body = { data: { id, type: data.type, attributes: JSON.parse(JSON.stringify(attributes)) as Json } };
          await api.updateIncidentUserDefinedField({
            fieldId: id,
            body: updateModel<v2.IncidentUserDefinedFieldUpdateRequest>(body),
          });
          return id;
        }
        const created = await api.createIncidentUserDefinedField({
          body: createModel<v2.IncidentUserDefinedFieldCreateRequest>(),
        });
        return required(created.data?.id, 'incident field id');
      }
    }
  }
}

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`Datadog answered without the ${what}`);
  return value;
}

/** Runs one API call; a failure becomes a `DatadogApiError` naming the operation (and Datadog's status). */
async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DatadogApiError) throw error;
    const status = (error as { code?: unknown }).code;
    throw new DatadogApiError(operation, describeFailure(error), {
      cause: error,
      status: typeof status === 'number' ? status : undefined,
    });
  }
}

/**
 * One line saying why a call failed: Datadog's status and its error messages (the SDK's own message repeats the
 * body over two lines), what to check on 401/403, or that no answer came in time.
 */
export function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number') {
    const said = datadogMessages((error as { body?: unknown }).body);
    const hint =
      code === 401 || code === 403
        ? " (check DD_API_KEY, DD_APP_KEY and the application key's permissions for this resource)"
        : '';
    return `HTTP ${code}${said ? `: ${said}` : ''}${hint}`;
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return 'no answer in time (the call was aborted)';
  }
  return oneLine(error instanceof Error ? error.message : String(error));
}

/** Datadog's `{"errors": [...]}` (or whatever body it sent), on one line, at most 300 characters. */
function datadogMessages(body: unknown): string {
  let value = body;
  if (typeof value === 'string') {
    // A status the SDK does not know comes as 'Unknown API Status Code!\nBody: "<text>"'.
    const text = /^Unknown API Status Code!\s*Body: "([\s\S]*)"$/.exec(value)?.[1] ?? value;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      value = text;
    }
  }
  const errors = record(value).errors;
  const text = Array.isArray(errors)
    ? errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ')
    : typeof value === 'string'
      ? value
      : value === undefined || value === null
        ? ''
        : JSON.stringify(value);
  return oneLine(text).slice(0, 300);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A schedule read back (layers and members in `included`) in the shape of a ScheduleCreateRequest. */
export function scheduleComparable(read: unknown): unknown {
  const body = record(read);
  const data = record(body.data);
  const included = list(body.included).map(record);
  const byId = new Map(included.map((item) => [`${String(item.type)}/${String(item.id)}`, item]));
  const layerRefs = list(record(record(data.relationships).layers).data);
  const layers = layerRefs.map((ref) => {
    const layer = byId.get(`layers/${String(record(ref).id)}`) ?? {};
    const memberRefs = list(record(record(layer.relationships).members).data);
    const members = memberRefs.map((m) => {
      const member = byId.get(`members/${String(record(m).id)}`) ?? {};
      const user = record(record(record(member.relationships).user).data);
      return user.id === undefined ? {} : { user: { id: user.id } };
    });
    return { ...record(layer.attributes), members };
  });
  return { data: { type: data.type, attributes: { ...record(data.attributes), layers } } };
}

/** An escalation policy read back (steps and targets in `included`) in the shape of its create request. */
export function escalationPolicyComparable(read: unknown): unknown {
  const body = record(read);
  const data = record(body.data);
  const included = list(body.included).map(record);
  const byId = new Map(included.map((item) => [`${String(item.type)}/${String(item.id)}`, item]));
  const stepRefs = list(record(record(data.relationships).steps).data);
  const steps = stepRefs.map((ref) => {
    const step = byId.get(`steps/${String(record(ref).id)}`) ?? {};
    const targets = list(record(record(step.relationships).targets).data).map((t) => ({
      type: record(t).type,
      id: record(t).id,
    }));
    return { ...record(step.attributes), targets };
  });
  return { data: { type: data.type, attributes: { ...record(data.attributes), steps } } };
}
