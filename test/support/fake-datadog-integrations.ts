import { randomUUID } from 'node:crypto';
import type { DatadogReply, DatadogRequest, FakeDatadogApi } from './fake-datadog-api';

/** The routes of the integrations the fake serves; a failure can be forced on each. */
export type IntegrationRoute = 'validate' | 'synthetics' | 'notebooks' | 'workflows';

/** A workflow instance the fake started: the workflow's id and the body it was posted. */
export interface FakeWorkflowInstance {
  workflowId: string;
  instanceId: string;
  body: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const bad = (...errors: string[]): DatadogReply => ({ status: 400, body: { errors } });

/** The state behind the fake Synthetics, Notebooks, Workflow Automation and validate routes. */
export class FakeIntegrations {
  /** Synthetic API tests as posted (wire format), in order. */
  readonly syntheticTests: Record<string, unknown>[] = [];
  /** Notebook create requests as posted (wire format), in order. */
  readonly notebooks: Record<string, unknown>[] = [];
  readonly workflowInstances: FakeWorkflowInstance[] = [];
  /** Whether validate says the API key is valid. */
  apiKeyValid = true;
  private readonly forced = new Map<IntegrationRoute, DatadogReply>();

  /** Every call of `route` answers `reply` (`{ status: 403, body: { errors: [...] } }`) until `clear(route)`. */
  fail(route: IntegrationRoute, reply: DatadogReply): void {
    this.forced.set(route, reply);
  }

  clear(route?: IntegrationRoute): void {
    if (route) this.forced.delete(route);
    else this.forced.clear();
  }

  /** The forced reply of a route, if any. */
  forcedReply(route: IntegrationRoute): DatadogReply | undefined {
    return this.forced.get(route);
  }
}

/** What Datadog checks of a synthetic API test before it creates it (a subset: enough to refuse a broken one). */
function syntheticProblems(body: unknown): string[] {
  if (!isRecord(body)) return ['body must be an object'];
  const problems: string[] = [];
  for (const field of ['name', 'message', 'type', 'config', 'locations', 'options']) {
    if (body[field] === undefined) problems.push(`${field} is required`);
  }
  if (body.type !== 'api') problems.push('type must be api');
  const config = isRecord(body.config) ? body.config : {};
  const request = isRecord(config.request) ? config.request : {};
  if (typeof request.url !== 'string' || !/^https?:\/\//.test(request.url)) problems.push('config.request.url invalid');
  if (!Array.isArray(config.assertions) || config.assertions.length === 0) problems.push('config.assertions required');
  if (!Array.isArray(body.locations) || body.locations.length === 0) problems.push('locations must not be empty');
  const tick = isRecord(body.options) ? body.options.tick_every : undefined;
  if (typeof tick !== 'number' || tick < 30 || tick > 604_800) problems.push('options.tick_every out of range');
  return problems;
}

/**
 * Registers stand-ins for the Datadog routes of `/datadog/*` on a `FakeDatadogApi`: `GET /api/v1/validate`,
 * `POST /api/v1/synthetics/tests/api` (checks the basics of the test, answers it back with a public id and a monitor
 * id), `POST /api/v1/notebooks` (answers the notebook with an id, cells with ids) and
 * `POST /api/v2/workflows/{id}/instances` (answers an instance id). Bodies are kept as the wire format received.
 */
export function registerIntegrationRoutes(api: FakeDatadogApi): FakeIntegrations {
  const state = new FakeIntegrations();
  const forced =
    (route: IntegrationRoute, handler: (request: DatadogRequest, params: string[]) => DatadogReply) =>
    (request: DatadogRequest, params: string[]): DatadogReply =>
      state.forcedReply(route) ?? handler(request, params);

  api.route(
    'GET',
    '/api/v1/validate',
    forced('validate', () =>
      state.apiKeyValid ? { status: 200, body: { valid: true } } : { status: 403, body: { errors: ['Forbidden'] } },
    ),
  );

  api.route(
    'POST',
    '/api/v1/synthetics/tests/api',
    forced('synthetics', ({ body }) => {
      const problems = syntheticProblems(body);
      if (problems.length > 0) return bad(...problems);
      const test = body as Record<string, unknown>;
      state.syntheticTests.push(test);
      const n = state.syntheticTests.length;
      return {
        status: 200,
        body: { ...test, public_id: `abc-def-${String(n).padStart(3, '0')}`, monitor_id: 9000 + n },
      };
    }),
  );

  api.route(
    'POST',
    '/api/v1/notebooks',
    forced('notebooks', ({ body }) => {
      const data = isRecord(body) && isRecord(body.data) ? body.data : undefined;
      const attributes = data && isRecord(data.attributes) ? data.attributes : undefined;
      if (!attributes || data?.type !== 'notebooks') return bad('data.type must be notebooks');
      if (typeof attributes.name !== 'string' || !attributes.name) return bad('data.attributes.name is required');
      if (!Array.isArray(attributes.cells) || attributes.cells.length === 0) return bad('cells are required');
      if (!isRecord(attributes.time)) return bad('time is required');
      state.notebooks.push(body as Record<string, unknown>);
      const id = 100 + state.notebooks.length;
      const cells = (attributes.cells as unknown[]).map((cell, i) => ({
        ...(isRecord(cell) ? cell : {}),
        id: `cell-${i}`,
      }));
      return { status: 200, body: { data: { id, type: 'notebooks', attributes: { ...attributes, cells } } } };
    }),
  );

  api.route(
    'POST',
    /\/api\/v2\/workflows\/([^/]+)\/instances/,
    forced('workflows', ({ body }, [workflowId]) => {
      if (!isRecord(body) || (body.meta !== undefined && !isRecord(body.meta))) return bad('meta must be an object');
      const instanceId = randomUUID();
      state.workflowInstances.push({ workflowId: workflowId!, instanceId, body });
      return { status: 200, body: { data: { id: instanceId } } };
    }),
  );
  return state;
}
