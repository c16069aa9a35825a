import { randomUUID } from 'node:crypto';
import type { DatadogReply, DatadogRequest, FakeDatadogApi } from './fake-datadog-api';

/** An incident the fake Datadog holds, as it was posted (snake_case wire format) plus its later updates. */
export interface FakeIncident {
  id: string;
  publicId: number;
  /** The `data.attributes` of the create request, with `fields` merged by later updates. */
  attributes: Record<string, unknown> & { title: string; fields: Record<string, { type?: string; value?: unknown }> };
  /** The value of the `control_plane_key` field, if any. */
  key?: string;
  updates: Record<string, unknown>[];
  attachments: { title?: string; document_url?: string }[];
}

/** The state behind the fake v2 Incidents routes. */
export class FakeIncidents {
  readonly incidents: FakeIncident[] = [];
  /** Fields this org has not provisioned: a create or an update that sets one is refused (400), as Datadog may. */
  readonly unknownFields = new Set<string>();

  /** Incidents opened with this idempotency key (more than one is a duplicate). */
  withKey(key: string): FakeIncident[] {
    return this.incidents.filter((incident) => incident.key === key);
  }

  /** How many incidents each key opened. */
  countsByKey(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const incident of this.incidents) {
      if (incident.key !== undefined) counts.set(incident.key, (counts.get(incident.key) ?? 0) + 1);
    }
    return counts;
  }

  fieldValue(incident: FakeIncident, field: string): unknown {
    return incident.attributes.fields[field]?.value;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function dataAttributes(body: unknown): Record<string, unknown> | undefined {
  const data = isRecord(body) ? body.data : undefined;
  const attributes = isRecord(data) ? data.attributes : undefined;
  return isRecord(attributes) ? attributes : undefined;
}

function wire(incident: FakeIncident): Record<string, unknown> {
  return {
    id: incident.id,
    type: 'incidents',
    attributes: { ...incident.attributes, public_id: incident.publicId },
  };
}

const bad = (message: string): DatadogReply => ({ status: 400, body: { errors: [message] } });

/** A 400 naming the first field of `fields` the org does not know, if any. */
function unknownField(state: FakeIncidents, fields: unknown): DatadogReply | undefined {
  const name = isRecord(fields) ? Object.keys(fields).find((f) => state.unknownFields.has(f)) : undefined;
  return name === undefined ? undefined : bad(`Field "${name}" does not exist`);
}

/**
 * Registers a stateful stand-in for the v2 Incidents routes the control plane uses: create, search (only the
 * `<field>:"<value>"` form the adapter sends, matched exactly), get, update (fields merged) and link attachments.
 * It checks what Datadog requires (a title; `customer_impact_scope` when customers are impacted).
 */
export function installIncidentRoutes(api: FakeDatadogApi): FakeIncidents {
  const state = new FakeIncidents();
  const find = (id: string | undefined): FakeIncident | undefined => state.incidents.find((i) => i.id === id);

  api.route('POST', '/api/v2/incidents', (request: DatadogRequest) => {
    const attributes = dataAttributes(request.body);
    if (!attributes) return bad('data.attributes is required');
    if (typeof attributes.title !== 'string' || attributes.title === '') return bad('title is required');
    if (attributes.customer_impacted === true && typeof attributes.customer_impact_scope !== 'string') {
      return bad('customer_impact_scope is required when customer_impacted is true');
    }
    const refused = unknownField(state, attributes.fields);
    if (refused) return refused;
    const fields = (isRecord(attributes.fields) ? attributes.fields : {}) as FakeIncident['attributes']['fields'];
    const keyValue = fields.control_plane_key?.value;
    const incident: FakeIncident = {
      id: randomUUID(),
      publicId: state.incidents.length + 1,
      attributes: { ...attributes, title: attributes.title, fields },
      key: typeof keyValue === 'string' ? keyValue : undefined,
      updates: [],
      attachments: [],
    };
    state.incidents.push(incident);
    return { status: 201, body: { data: wire(incident) } };
  });

  api.route('GET', '/api/v2/incidents/search', (request: DatadogRequest) => {
    const query = request.query.get('query') ?? '';
    const match = /^([\w.]+):"([^"]*)"$/.exec(query);
    const hits = match ? state.incidents.filter((i) => i.attributes.fields[match[1]!]?.value === match[2]) : [];
    return {
      status: 200,
      body: {
        data: {
          type: 'incidents_search_results',
          attributes: { facets: {}, incidents: hits.map((incident) => ({ data: wire(incident) })), total: hits.length },
        },
      },
    };
  });

  api.route('GET', /\/api\/v2\/incidents\/([\w-]+)/, (_request, [id]) => {
    const incident = find(id);
    return incident
      ? { status: 200, body: { data: wire(incident) } }
      : { status: 404, body: { errors: ['Not found'] } };
  });

  api.route('PATCH', /\/api\/v2\/incidents\/([\w-]+)/, (request, [id]) => {
    const incident = find(id);
    if (!incident) return { status: 404, body: { errors: ['Not found'] } };
    const attributes = dataAttributes(request.body);
    if (!attributes) return bad('data.attributes is required');
    const refused = unknownField(state, attributes.fields);
    if (refused) return refused;
    incident.updates.push(attributes);
    if (isRecord(attributes.fields)) {
      Object.assign(incident.attributes.fields, attributes.fields as FakeIncident['attributes']['fields']);
    }
    return { status: 200, body: { data: wire(incident) } };
  });

  api.route('POST', /\/api\/v2\/incidents\/([\w-]+)\/attachments/, (request, [id]) => {
    const incident = find(id);
    if (!incident) return { status: 404, body: { errors: ['Not found'] } };
    const attachment = dataAttributes(request.body)?.attachment;
    if (isRecord(attachment)) incident.attachments.push(attachment);
    return {
      status: 200,
      body: {
        data: {
          id: randomUUID(),
          type: 'incident_attachments',
          attributes: { attachment_type: 'link', attachment },
          relationships: { incident: { data: { id: incident.id, type: 'incidents' } } },
        },
      },
    };
  });

  return state;
}
