import type { v2 } from '@datadog/datadog-api-client';
import { withoutUrlCredentials } from '@app/common';
import type { AppConfig } from '@app/config';
import type { DatadogSdk, SdkConfiguration } from '../adapters/sdk-configuration';
import { DatadogApiError } from '../datadog.errors';
import { createSdkConfiguration, loadDatadogSdk } from '../adapters/sdk-configuration';
import {
  DatadogIncidentsPort,
  type DeliveredIncident,
  type IncidentCallOptions,
  type IncidentContext,
  type IncidentRequest,
  type IncidentLink,
  type IncidentUpdate,
  type IncidentUpdateResult,
} from './datadog-incidents.port';

/** The custom textbox field holding the idempotency key (provisioned by `npm run datadog:apply`). */
export const IDEMPOTENCY_FIELD = 'control_plane_key';
/** The Datadog field of a context fact (provisioned by `npm run datadog:apply`, datadog/incident-fields/). */
export const contextFieldName = (name: string): string => `cp_${name}`;
/** Every v2 Incidents operation used here is unstable in the SDK and must be enabled by name. */
const UNSTABLE_OPERATIONS = [
  'v2.createIncident',
  'v2.updateIncident',
  'v2.searchIncidents',
  'v2.createIncidentAttachment',
] as const;
/** One HTTP call's limit; the outbox retries, so the SDK does not. */
const CALL_TIMEOUT_MS = 10_000;
const MAX_MESSAGE = 300;

type TextboxField = { type: 'textbox'; value: string };
type DropdownField = { type: 'dropdown'; value: string };

/**
 * `DatadogIncidentsPort` on `@datadog/datadog-api-client` (v2 Incidents API) at DATADOG_API_URL. Each call gets
 * its own configuration with a 10 s abort signal and no SDK retries: the incidents outbox owns retries and backoff.
 * Severity and state are Datadog's `severity`/`state` dropdown fields; the idempotency key (`control_plane_key`) and
 * the context facts (`cp_service`, `cp_env`, `cp_monitor`, ...) are textbox fields that `npm run datadog:apply`
 * provisions (datadog/incident-fields/). The runbook is the first timeline cell; the links are in it and are also added as
 * link attachments (best effort: the incident exists either way, and a retry must not open a second one).
 */
export class DatadogIncidentsAdapter extends DatadogIncidentsPort {
  readonly name = 'datadog';

  constructor(private readonly config: AppConfig) {
    super();
    if (!config.datadog.configured) throw new Error('DatadogIncidentsAdapter needs DD_API_KEY and DD_APP_KEY');
  }

  private async api(
    options: IncidentCallOptions = {},
  ): Promise<{ api: v2.IncidentsApi; sdk: DatadogSdk; configuration: SdkConfiguration }> {
    const { sdk, configuration } = await createSdkConfiguration(this.config, {
      unstableOperations: UNSTABLE_OPERATIONS,
      maxRetries: 0,
      timeoutMs: CALL_TIMEOUT_MS,
      signal: options.signal,
    });
    return { api: new sdk.v2.IncidentsApi(configuration), sdk, configuration };
  }

  async warmUp(): Promise<void> {
    await loadDatadogSdk().catch(() => undefined);
  }

  async findByKey(idempotencyKey: string, options?: IncidentCallOptions): Promise<DeliveredIncident | undefined> {
    const { api } = await this.api(options);
    const response = await call('incident search', () =>
      api.searchIncidents({ query: `${IDEMPOTENCY_FIELD}:"${idempotencyKey}"`, pageSize: 5 }),
    );
    for (const { data } of response.data.attributes?.incidents ?? []) {
      const field = data.attributes?.fields?.[IDEMPOTENCY_FIELD] as { value?: unknown } | undefined;
      // Only an exact match counts: a search engine may match more loosely than the key.
      if (field?.value === idempotencyKey) return this.delivered(data);
    }
    return undefined;
  }

  async create(request: IncidentRequest, options?: IncidentCallOptions): Promise<DeliveredIncident> {
    const { api } = await this.api(options);
    const fields: Record<string, TextboxField | DropdownField> = {
      severity: { type: 'dropdown', value: request.severity },
      state: { type: 'dropdown', value: 'active' },
      [IDEMPOTENCY_FIELD]: { type: 'textbox', value: request.idempotencyKey },
      ...contextFields(request.fields),
    };
    const links = request.links.map((link) => `- [${link.title}](${link.url})`).join('\n');
    const markdown = links ? `${request.runbookMarkdown}\n\n**Links**\n${links}` : request.runbookMarkdown;
    const response = await call('incident create', () =>
      api.createIncident({
        body: {
          data: {
            type: 'incidents',
            attributes: {
              title: request.title,
              customerImpacted: request.customerImpacted,
              ...(request.customerImpacted
                ? { customerImpactScope: request.customerImpactScope ?? request.title }
                : {}),
              fields,
              initialCells: [{ cellType: 'markdown', content: { content: markdown } }],
              notificationHandles: request.notificationHandles.map((handle) => ({ handle, displayName: handle })),
            },
          },
        },
      }),
    );
    const incident = this.delivered(response.data);
    const warnings = await this.attachLinks(incident.id, request.links, options);
    return warnings.length > 0 ? { ...incident, warnings } : incident;
  }

  async update(id: string, update: IncidentUpdate, options?: IncidentCallOptions): Promise<IncidentUpdateResult> {
    const { api } = await this.api(options);
    const fields: Record<string, TextboxField | DropdownField> = contextFields(update.fields ?? {});
    if (update.severity) fields.severity = { type: 'dropdown', value: update.severity };
    if (update.state) fields.state = { type: 'dropdown', value: update.state };
    await call('incident update', () =>
      api.updateIncident({ incidentId: id, body: { data: { id, type: 'incidents', attributes: { fields } } } }),
    );
    const warnings: string[] = [];
    if (update.note) {
      // On its own: an org that has not provisioned cp_note (npm run datadog:apply) still gets the change above.
      const note = contextFields({ note: update.note });
      const { api: noteApi } = await this.api(options);
      await call('incident note', () =>
        noteApi.updateIncident({
          incidentId: id,
          body: { data: { id, type: 'incidents', attributes: { fields: note } } },
        }),
      ).catch((error: unknown) => warnings.push(`note not set: ${(error as Error).message}`));
    }
    warnings.push(...(await this.attachLinks(id, update.links ?? [], options)));
    return warnings.length > 0 ? { warnings } : {};
  }

  /** Adds each link as an attachment; returns what failed (the incident exists either way; its cell has the links). */
  private async attachLinks(
    incidentId: string,
    links: readonly IncidentLink[],
    options?: IncidentCallOptions,
  ): Promise<string[]> {
    const warnings: string[] = [];
    for (const link of links) {
      const { api } = await this.api(options);
      await call('incident attachment', () =>
        api.createIncidentAttachment({
          incidentId,
          body: {
            data: {
              type: 'incident_attachments',
              attributes: { attachmentType: 'link', attachment: { documentUrl: link.url, title: link.title } },
            },
          },
        }),
      ).catch((error: unknown) => warnings.push(`link "${link.title}" not attached: ${(error as Error).message}`));
    }
    return warnings;
  }

  private delivered(data: v2.IncidentResponseData): DeliveredIncident {
    const publicId = data.attributes?.publicId;
    return {
      id: data.id,
      ...(typeof publicId === 'number' ? { publicId } : {}),
      url: `${this.config.datadog.appUrl}/incidents/${typeof publicId === 'number' ? publicId : data.id}`,
    };
  }
}

/** The context facts as `cp_<name>` textbox fields. */
function contextFields(context: IncidentContext): Record<string, TextboxField> {
  const out: Record<string, TextboxField> = {};
  for (const [name, value] of Object.entries(context)) {
    if (typeof value === 'string') out[contextFieldName(name)] = { type: 'textbox', value };
  }
  return out;
}

/** Runs one SDK call, turning its failure into a `DatadogApiError` with Datadog's status (none: no answer). */
async function call<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const status = statusOf(error);
    throw new DatadogApiError(operation, describe(error, status), { cause: error, status });
  }
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** Datadog's `errors` list when it sent one, else the error's message; bounded, and never a header or a key. */
function describe(error: unknown, status: number | undefined): string {
  const body = (error as { body?: unknown } | null)?.body;
  const errors = (body as { errors?: unknown } | null)?.errors;
  const detail = Array.isArray(errors)
    ? errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ')
    : error instanceof Error
      ? error.name === 'AbortError' || error.name === 'TimeoutError'
        ? `no answer within ${CALL_TIMEOUT_MS} ms`
        : error.message
      : String(error);
  // An HTTP client's error quotes the URL it called (DATADOG_API_URL), a proxy's credentials with it.
  const text = withoutUrlCredentials(status === undefined ? detail : `HTTP ${status}: ${detail}`);
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}
