import { FakeDatadogApi, type DatadogHandler, type DatadogReply, type DatadogRequest } from './fake-datadog-api';

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(record) : [];
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const ok = (body: unknown, status = 200): DatadogReply => ({ status, body });
const notFound: DatadogReply = { status: 404, body: { errors: ['Not Found'] } };
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A query parameter as a whole number, or the API's default when absent. */
const intParam = (query: URLSearchParams, name: string, fallback: number): number => {
  const value = query.get(name);
  return value === null ? fallback : Number.parseInt(value, 10);
};

/**
 * One page of a listing, as Datadog pages it (the API's default page sizes from its OpenAPI document): a client
 * that reads the first page only misses what is past it.
 */
function pageOf<T>(items: T[], offset: number, size: number): T[] {
  return items.slice(offset, offset + size);
}

/**
 * A stateful stand-in for the Datadog configuration API on top of `FakeDatadogApi`: monitors, SLOs, dashboards,
 * logs pipelines, synthetics, notebooks, workflows, on-call schedules and escalation policies, incident types and
 * user-defined fields. What is created is stored and read back as Datadog answers it: with ids, server fields
 * (`created`, `overall_state`, widget ids, ...) and defaults the request did not set, v2 on-call relationships
 * and `included` items. Enough for the SDK to deserialise every answer.
 */
export class FakeDatadogResources {
  readonly monitors = new Map<string, Json>();
  readonly slos = new Map<string, Json>();
  readonly dashboards = new Map<string, Json>();
  readonly pipelines = new Map<string, Json>();
  readonly synthetics = new Map<string, Json>();
  readonly notebooks = new Map<string, Json>();
  readonly workflows = new Map<string, Json>();
  /** Schedules and policies as created (request attributes), keyed by id. */
  readonly schedules = new Map<string, Json>();
  readonly policies = new Map<string, Json>();
  readonly incidentFields = new Map<string, Json>();
  readonly incidentTypeId = '00000000-0000-4000-8000-0000000000a1';
  private sequence = 1000;

  constructor(readonly api: FakeDatadogApi) {
    this.routeMonitors();
    this.routeSlos();
    this.routeDashboards();
    this.routePipelines();
    this.routeSynthetics();
    this.routeNotebooks();
    this.routeWorkflows();
    this.routeOnCall();
    this.routeIncidentConfig();
  }

  private readonly refusals: { method: string; path: string; reply: DatadogReply; times: number }[] = [];

  /** Answers `reply` to `method path` (exact path) instead of running the route: from now on, or `times` times. */
  refuse(method: string, path: string, reply: DatadogReply, times = Infinity): void {
    this.refusals.push({ method: method.toUpperCase(), path, reply, times });
  }

  private readonly failures: { method: string; path: string; reply: DatadogReply; times: number }[] = [];

  /**
   * The next `times` requests `method path` (exact path) run the route (what they create is stored) and are then
   * answered `reply`: a 5xx Datadog sends after it made the resource.
   */
  failAfterRunning(method: string, path: string, reply: DatadogReply, times = 1): void {
    this.failures.push({ method: method.toUpperCase(), path, reply, times });
  }

  private route(method: string, path: RegExp | string, handler: DatadogHandler): this {
    this.api.route(method, path, async (request, params) => {
      const refusal = this.refusals.find((r) => r.method === request.method && r.path === request.path && r.times > 0);
      if (refusal) {
        refusal.times -= 1;
        return refusal.reply;
      }
      const result = await handler(request, params);
      const failure = this.failures.find((f) => f.method === request.method && f.path === request.path && f.times > 0);
      if (!failure) return result;
      failure.times -= 1;
      return failure.reply;
    });
    return this;
  }

  /** Requests that change something (POST, PUT, PATCH, DELETE). */
  writes(): DatadogRequest[] {
    return this.api.requests.filter((r) => WRITE_METHODS.has(r.method));
  }

  private next(): number {
    this.sequence += 1;
    return this.sequence;
  }

  private uuid(): string {
    return `00000000-0000-4000-8000-${String(this.next()).padStart(12, '0')}`;
  }

  private routeMonitors(): void {
    const stored = (body: unknown, id: number, created: string): Json => {
      const monitor = clone(record(body));
      // Datadog fills in option defaults the request did not set.
      monitor.options = { notify_audit: false, silenced: {}, ...record(monitor.options) };
      return { ...monitor, id, created, modified: new Date().toISOString(), overall_state: 'OK', deleted: null };
    };
    this.route('GET', '/api/v1/monitor', (req) => {
      const name = (req.query.get('name') ?? '').toLowerCase();
      const matching = [...this.monitors.values()].filter((m) => String(m.name).toLowerCase().includes(name));
      // page and page_size (no page: every monitor, as Datadog answers without them).
      if (req.query.get('page') === null) return ok(matching);
      const size = intParam(req.query, 'page_size', 100);
      return ok(pageOf(matching, intParam(req.query, 'page', 0) * size, size));
    })
      .route('POST', '/api/v1/monitor', (req) => {
        const id = this.next();
        const monitor = stored(req.body, id, new Date().toISOString());
        this.monitors.set(String(id), monitor);
        return ok(monitor);
      })
      .route('GET', /\/api\/v1\/monitor\/(\d+)/, (_req, [id]) => {
        const monitor = this.monitors.get(id!);
        return monitor ? ok(monitor) : notFound;
      })
      .route('PUT', /\/api\/v1\/monitor\/(\d+)/, (req, [id]) => {
        const before = this.monitors.get(id!);
        if (!before) return notFound;
        const monitor = stored(req.body, Number(id), String(before.created));
        this.monitors.set(id!, monitor);
        return ok(monitor);
      });
  }

  private routeSlos(): void {
    const stored = (body: unknown, id: string): Json => ({
      ...clone(record(body)),
      id,
      created_at: 1_700_000_000,
      modified_at: Math.floor(Date.now() / 1000),
    });
    this.route('GET', '/api/v1/slo', (req) => {
      const query = (req.query.get('query') ?? '').toLowerCase();
      const matching = [...this.slos.values()].filter((s) => String(s.name).toLowerCase().includes(query));
      return ok({ data: pageOf(matching, intParam(req.query, 'offset', 0), intParam(req.query, 'limit', 1000)) });
    })
      .route('POST', '/api/v1/slo', (req) => {
        const id = `${this.next().toString(16)}aaaabbbbccccdddd`;
        const slo = stored(req.body, id);
        this.slos.set(id, slo);
        return ok({ data: [slo] });
      })
      .route('PUT', /\/api\/v1\/slo\/(\w+)/, (req, [id]) => {
        if (!this.slos.has(id!)) return notFound;
        const slo = stored(req.body, id!);
        this.slos.set(id!, slo);
        return ok({ data: [slo] });
      });
  }

  private routeDashboards(): void {
    const withWidgetIds = (widgets: unknown): Json[] =>
      list(widgets).map((widget) => {
        const definition = record(widget.definition);
        const nested = definition.widgets ? { ...definition, widgets: withWidgetIds(definition.widgets) } : definition;
        return { ...widget, id: this.next(), definition: nested };
      });
    const stored = (body: unknown, id: string): Json => {
      const dashboard = clone(record(body));
      return {
        ...dashboard,
        id,
        url: `/dashboard/${id}`,
        author_handle: 'apply@example.com',
        created_at: new Date().toISOString(),
        is_read_only: false,
        notify_list: [],
        widgets: withWidgetIds(dashboard.widgets),
      };
    };
    // count (default 100) and start.
    this.route('GET', '/api/v1/dashboard', (req) =>
      ok({
        dashboards: pageOf(
          [...this.dashboards.values()],
          intParam(req.query, 'start', 0),
          intParam(req.query, 'count', 100),
        ).map((d) => ({
          id: d.id,
          title: d.title,
          layout_type: d.layout_type,
          url: d.url,
        })),
      }),
    )
      .route('POST', '/api/v1/dashboard', (req) => {
        const n = String(this.next()).padStart(9, '0');
        const id = `${n.slice(0, 3)}-${n.slice(3, 6)}-${n.slice(6, 9)}`;
        const dashboard = stored(req.body, id);
        this.dashboards.set(id, dashboard);
        return ok(dashboard);
      })
      .route('GET', /\/api\/v1\/dashboard\/([\w-]+)/, (_req, [id]) => {
        const dashboard = this.dashboards.get(id!);
        return dashboard ? ok(dashboard) : notFound;
      })
      .route('PUT', /\/api\/v1\/dashboard\/([\w-]+)/, (req, [id]) => {
        if (!this.dashboards.has(id!)) return notFound;
        const dashboard = stored(req.body, id!);
        this.dashboards.set(id!, dashboard);
        return ok(dashboard);
      });
  }

  private routePipelines(): void {
    const stored = (body: unknown, id: string): Json => ({
      ...clone(record(body)),
      id,
      type: 'pipeline',
      is_read_only: false,
    });
    this.route('GET', '/api/v1/logs/config/pipelines', () => ok([...this.pipelines.values()]))
      .route('POST', '/api/v1/logs/config/pipelines', (req) => {
        const id = `pipeline-${this.next()}`;
        const pipeline = stored(req.body, id);
        this.pipelines.set(id, pipeline);
        return ok(pipeline);
      })
      .route('PUT', /\/api\/v1\/logs\/config\/pipelines\/([\w-]+)/, (req, [id]) => {
        if (!this.pipelines.has(id!)) return notFound;
        const pipeline = stored(req.body, id!);
        this.pipelines.set(id!, pipeline);
        return ok(pipeline);
      });
  }

  private routeSynthetics(): void {
    const stored = (body: unknown, publicId: string): Json => ({
      ...clone(record(body)),
      public_id: publicId,
      monitor_id: this.next(),
    });
    this.route('GET', '/api/v1/synthetics/tests', () =>
      ok({
        tests: [...this.synthetics.values()].map((t) => ({
          public_id: t.public_id,
          name: t.name,
          type: t.type,
          status: t.status,
        })),
      }),
    );
    for (const type of ['api', 'browser']) {
      this.route('POST', `/api/v1/synthetics/tests/${type}`, (req) => {
        const n = String(this.next()).padStart(9, '0');
        const publicId = `${n.slice(0, 3)}-${n.slice(3, 6)}-${n.slice(6, 9)}`;
        const test = stored(req.body, publicId);
        this.synthetics.set(publicId, test);
        return ok(test);
      })
        .route('GET', new RegExp(`/api/v1/synthetics/tests/${type}/([\\w-]+)`), (_req, [id]) => {
          const test = this.synthetics.get(id!);
          return test ? ok(test) : notFound;
        })
        .route('PUT', new RegExp(`/api/v1/synthetics/tests/${type}/([\\w-]+)`), (req, [id]) => {
          if (!this.synthetics.has(id!)) return notFound;
          const test = stored(req.body, id!);
          this.synthetics.set(id!, test);
          return ok(test);
        });
    }
  }

  private routeNotebooks(): void {
    const stored = (body: unknown, id: number): Json => {
      const data = record(record(body).data);
      const attributes = clone(record(data.attributes));
      attributes.cells = list(attributes.cells).map((cell) => ({ ...cell, id: `cell-${this.next()}` }));
      return { id, type: 'notebooks', attributes: { ...attributes, created: new Date().toISOString() } };
    };
    this.route('GET', '/api/v1/notebooks', (req) => {
      const query = (req.query.get('query') ?? '').toLowerCase();
      const matching = [...this.notebooks.values()].filter((n) =>
        String(record(n.attributes).name).toLowerCase().includes(query),
      );
      // count (default 100) and start.
      const data = pageOf(matching, intParam(req.query, 'start', 0), intParam(req.query, 'count', 100));
      return ok({ data, meta: { page: { total_count: matching.length, total_filtered_count: matching.length } } });
    })
      .route('POST', '/api/v1/notebooks', (req) => {
        const id = this.next();
        const notebook = stored(req.body, id);
        this.notebooks.set(String(id), notebook);
        return ok({ data: notebook });
      })
      .route('GET', /\/api\/v1\/notebooks\/(\d+)/, (_req, [id]) => {
        const notebook = this.notebooks.get(id!);
        return notebook ? ok({ data: notebook }) : notFound;
      })
      .route('PUT', /\/api\/v1\/notebooks\/(\d+)/, (req, [id]) => {
        if (!this.notebooks.has(id!)) return notFound;
        const notebook = stored(req.body, Number(id));
        this.notebooks.set(id!, notebook);
        return ok({ data: notebook });
      });
  }

  private routeWorkflows(): void {
    const stored = (body: unknown, id: string): Json => {
      const data = record(record(body).data);
      const now = new Date().toISOString();
      return {
        id,
        type: 'workflows',
        attributes: { ...clone(record(data.attributes)), createdAt: now, updatedAt: now },
      };
    };
    this.route('GET', '/api/v2/workflows', () => ok({ data: [...this.workflows.values()] }))
      .route('POST', '/api/v2/workflows', (req) => {
        const id = this.uuid();
        const workflow = stored(req.body, id);
        this.workflows.set(id, workflow);
        return ok({ data: workflow }, 201);
      })
      .route('GET', /\/api\/v2\/workflows\/([\w-]+)/, (_req, [id]) => {
        const workflow = this.workflows.get(id!);
        return workflow ? ok({ data: workflow }) : notFound;
      })
      .route('PATCH', /\/api\/v2\/workflows\/([\w-]+)/, (req, [id]) => {
        if (!this.workflows.has(id!)) return notFound;
        const workflow = stored(req.body, id!);
        this.workflows.set(id!, workflow);
        return ok({ data: workflow });
      });
  }

  /** A schedule as Datadog answers it: layers and members as relationships, their content in `included`. */
  private scheduleDocument(id: string, include: boolean): Json {
    const attributes = record(this.schedules.get(id));
    const layers = list(attributes.layers).map((layer, i) => {
      const layerId = `${id}-layer-${i}`;
      const members = list(layer.members).map((member, j) => ({
        id: `${layerId}-member-${j}`,
        type: 'members',
        relationships: { user: { data: { id: record(member.user).id, type: 'users' } } },
      }));
      const { members: _members, ...layerAttributes } = layer;
      return {
        layer: {
          id: layerId,
          type: 'layers',
          attributes: layerAttributes,
          relationships: { members: { data: members.map((m) => ({ id: m.id, type: 'members' })) } },
        },
        members,
      };
    });
    const data = {
      id,
      type: 'schedules',
      attributes: { name: attributes.name, time_zone: attributes.time_zone },
      relationships: { layers: { data: layers.map((l) => ({ id: l.layer.id, type: 'layers' })) } },
    };
    return include ? { data, included: layers.flatMap((l) => [l.layer, ...l.members]) } : { data };
  }

  private policyDocument(id: string, include: boolean): Json {
    const attributes = record(this.policies.get(id));
    const steps = list(attributes.steps).map((step, i) => ({
      id: `${id}-step-${i}`,
      type: 'steps',
      attributes: { assignment: step.assignment, escalate_after_seconds: step.escalate_after_seconds },
      relationships: { targets: { data: list(step.targets).map((t) => ({ id: t.id, type: t.type })) } },
    }));
    const data = {
      id,
      type: 'policies',
      attributes: {
        name: attributes.name,
        resolve_page_on_policy_end: attributes.resolve_page_on_policy_end,
        retries: attributes.retries,
      },
      relationships: { steps: { data: steps.map((s) => ({ id: s.id, type: 'steps' })) } },
    };
    return include ? { data, included: steps } : { data };
  }

  private routeOnCall(): void {
    const attributesOf = (body: unknown): Json => clone(record(record(record(body).data).attributes));
    this.route('GET', '/api/v2/on-call/schedules', () => ({
      status: 200,
      body: { data: [...this.schedules.keys()].map((id) => this.scheduleDocument(id, false).data) },
    }))
      .route('POST', '/api/v2/on-call/schedules', (req) => {
        const id = this.uuid();
        this.schedules.set(id, attributesOf(req.body));
        return ok(this.scheduleDocument(id, true), 201);
      })
      .route('GET', /\/api\/v2\/on-call\/schedules\/([\w-]+)/, (req, [id]) =>
        this.schedules.has(id!) ? ok(this.scheduleDocument(id!, req.query.has('include'))) : notFound,
      )
      .route('PUT', /\/api\/v2\/on-call\/schedules\/([\w-]+)/, (req, [id]) => {
        if (!this.schedules.has(id!)) return notFound;
        this.schedules.set(id!, attributesOf(req.body));
        return ok(this.scheduleDocument(id!, true));
      })
      .route('GET', '/api/v2/on-call/escalation-policies', () =>
        ok({ data: [...this.policies.keys()].map((id) => this.policyDocument(id, false).data) }),
      )
      .route('POST', '/api/v2/on-call/escalation-policies', (req) => {
        const id = this.uuid();
        this.policies.set(id, attributesOf(req.body));
        return ok(this.policyDocument(id, true), 201);
      })
      .route('GET', /\/api\/v2\/on-call\/escalation-policies\/([\w-]+)/, (req, [id]) =>
        this.policies.has(id!) ? ok(this.policyDocument(id!, req.query.has('include'))) : notFound,
      )
      .route('PUT', /\/api\/v2\/on-call\/escalation-policies\/([\w-]+)/, (req, [id]) => {
        if (!this.policies.has(id!)) return notFound;
        this.policies.set(id!, attributesOf(req.body));
        return ok(this.policyDocument(id!, true));
      });
  }

  private routeIncidentConfig(): void {
    const field = (id: string, data: Json, before?: Json): Json => {
      const attributes = record(data.attributes);
      const now = new Date().toISOString();
      return {
        id,
        type: 'user_defined_field',
        attributes: {
          category: null,
          collected: null,
          created: now,
          default_value: null,
          deleted: null,
          display_name: null,
          metadata: null,
          modified: now,
          name: null,
          ordinal: null,
          required: false,
          reserved: false,
          tag_key: null,
          type: 3,
          valid_values: null,
          ...record(before?.attributes),
          ...clone(attributes),
        },
        relationships: before?.relationships ?? {
          ...clone(record(data.relationships)),
          created_by_user: { data: { id: 'apply-user', type: 'users' } },
          last_modified_by_user: { data: { id: 'apply-user', type: 'users' } },
        },
      };
    };
    this.route('GET', '/api/v2/incidents/config/types', () =>
      ok({
        data: [
          {
            id: this.incidentTypeId,
            type: 'incident_types',
            attributes: { name: 'Incident', description: 'Any incident', is_default: true },
          },
        ],
      }),
    )
      // page[size] and page[number] from 0.
      .route('GET', '/api/v2/incidents/config/user-defined-fields', (req) => {
        const size = intParam(req.query, 'page[size]', 100);
        const offset = intParam(req.query, 'page[number]', 0) * size;
        return ok({ data: pageOf([...this.incidentFields.values()], offset, size), meta: { offset, size } });
      })
      .route('POST', '/api/v2/incidents/config/user-defined-fields', (req) => {
        const id = this.uuid();
        const created = field(id, record(record(req.body).data));
        this.incidentFields.set(id, created);
        return ok({ data: created }, 201);
      })
      .route('PATCH', /\/api\/v2\/incidents\/config\/user-defined-fields\/([\w-]+)/, (req, [id]) => {
        const before = this.incidentFields.get(id!);
        if (!before) return notFound;
        const updated = field(id!, record(record(req.body).data), before);
        this.incidentFields.set(id!, updated);
        return ok({ data: updated });
      });
  }
}
