import {
  DatadogApiError,
  DatadogIncidentsPort,
  type DeliveredIncident,
  type IncidentRequest,
  type IncidentUpdate,
  type IncidentUpdateResult,
} from '@app/datadog';

type Operation = 'findByKey' | 'create' | 'update';

/** What the next call of an operation does instead of succeeding. */
export type Fault =
  | { kind: 'error'; error: Error }
  /** The call takes effect in "Datadog" and then fails as a lost answer would (no status, retryable). */
  | { kind: 'lost-answer' }
  /** Never answers. */
  | { kind: 'hang' };

/**
 * An in-memory `DatadogIncidentsPort` for domain unit tests: it holds incidents by idempotency key, records every
 * call, and fails the next calls of an operation as scripted (`failNext`). `name` can be `unconfigured`, in which
 * case any call fails the test (the worker must not call an unconfigured port).
 */
export class InMemoryIncidentsPort extends DatadogIncidentsPort {
  readonly incidents: { id: string; url: string; request: IncidentRequest; updates: IncidentUpdate[] }[] = [];
  readonly calls: { operation: Operation; arg: string }[] = [];
  private readonly faults: Record<Operation, Fault[]> = { findByKey: [], create: [], update: [] };
  /** Milliseconds each call takes. */
  latencyMs = 0;

  constructor(readonly name: 'datadog' | 'unconfigured' = 'datadog') {
    super();
  }

  warmUp(): Promise<void> {
    return Promise.resolve();
  }

  failNext(operation: Operation, ...faults: Fault[]): this {
    this.faults[operation].push(...faults);
    return this;
  }

  byKey(key: string): InMemoryIncidentsPort['incidents'] {
    return this.incidents.filter((i) => i.request.idempotencyKey === key);
  }

  private async enter(operation: Operation, arg: string): Promise<Fault | undefined> {
    if (this.name === 'unconfigured') throw new Error(`unexpected ${operation} on an unconfigured port`);
    this.calls.push({ operation, arg });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const fault = this.faults[operation].shift();
    if (fault?.kind === 'hang') await new Promise(() => undefined);
    if (fault?.kind === 'error') throw fault.error;
    return fault;
  }

  async findByKey(key: string): Promise<DeliveredIncident | undefined> {
    const fault = await this.enter('findByKey', key);
    const found = this.byKey(key)[0];
    if (fault?.kind === 'lost-answer') throw lost('incident search');
    return found ? { id: found.id, url: found.url } : undefined;
  }

  async create(request: IncidentRequest): Promise<DeliveredIncident> {
    const fault = await this.enter('create', request.idempotencyKey);
    const id = `dd-${this.incidents.length + 1}`;
    const incident = { id, url: `https://app.datadoghq.test/incidents/${id}`, request, updates: [] };
    this.incidents.push(incident);
    if (fault?.kind === 'lost-answer') throw lost('incident create');
    return { id, url: incident.url };
  }

  async update(id: string, update: IncidentUpdate): Promise<IncidentUpdateResult> {
    const fault = await this.enter('update', id);
    const incident = this.incidents.find((i) => i.id === id);
    if (!incident) throw new DatadogApiError('incident update', 'HTTP 404: Not found', { status: 404 });
    incident.updates.push(update);
    if (fault?.kind === 'lost-answer') throw lost('incident update');
    return {};
  }
}

function lost(operation: string): DatadogApiError {
  return new DatadogApiError(operation, 'socket hang up', { retryable: true });
}
