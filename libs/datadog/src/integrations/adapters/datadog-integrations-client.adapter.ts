import type { v1, v2 } from '@datadog/datadog-api-client';
import { withoutUrlCredentials } from '@app/common';
import type { AppConfig } from '@app/config';
import { createSdkConfiguration, type DatadogSdk } from '../../adapters/sdk-configuration';
import { DatadogRequestError } from '../datadog-integrations.errors';
import {
  type ApiKeyValidation,
  type CreatedNotebook,
  type CreatedSyntheticTest,
  DatadogIntegrationsPort,
  type DatadogPayload,
  type StartedWorkflowInstance,
} from '../datadog-integrations.port';

/** Limits of one call: a create waits at most `callTimeoutMs`, the API key check `validateTimeoutMs`. */
export interface DatadogIntegrationsClientOptions {
  callTimeoutMs?: number;
  validateTimeoutMs?: number;
}

const DEFAULT_CALL_TIMEOUT_MS = 10_000;
const DEFAULT_VALIDATE_TIMEOUT_MS = 2_000;
const MAX_MESSAGE_CHARS = 300;
const MAX_ERRORS = 5;

/**
 * `DatadogIntegrationsPort` on `@datadog/datadog-api-client` at DATADOG_API_URL. Each call gets its own SDK
 * configuration with an abort signal and **no SDK retries**: a create that Datadog failed with a 5xx may have
 * happened (a second synthetic test, a workflow run twice), so whether to retry is the caller's decision.
 *
 * A payload (wire JSON from `datadog/`) is read into the SDK's model first (`ObjectSerializer.deserialize`), and
 * refused before anything is sent when the model does not take it whole: an unknown key, a value outside an enum
 * or a missing required field is a bug of the file, not something to send.
 */
export class DatadogIntegrationsClientAdapter extends DatadogIntegrationsPort {
  readonly name = 'datadog';
  private readonly callTimeoutMs: number;
  private readonly validateTimeoutMs: number;

  constructor(
    private readonly config: AppConfig,
    options: DatadogIntegrationsClientOptions = {},
  ) {
    super();
    if (!config.datadog.configured) throw new Error('DatadogIntegrationsClientAdapter needs DD_API_KEY and DD_APP_KEY');
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.validateTimeoutMs = options.validateTimeoutMs ?? DEFAULT_VALIDATE_TIMEOUT_MS;
  }

  async createSyntheticsApiTest(payload: DatadogPayload): Promise<CreatedSyntheticTest> {
    const operation = 'synthetic test create';
    const { sdk, configuration } = await createSdkConfiguration(this.config, {
      maxRetries: 0,
      timeoutMs: this.callTimeoutMs,
    });
    const body = toModel<v1.SyntheticsAPITest>(sdk, 'v1', payload, 'SyntheticsAPITest', operation);
    const api = new sdk.v1.SyntheticsApi(configuration);
    const created = await this.call(operation, () => api.createSyntheticsAPITest({ body }));
    if (typeof created.publicId !== 'string' || !created.publicId) {
      throw new DatadogRequestError(
        operation,
        'invalid_response',
        'Datadog answered without the public_id of the test',
      );
    }
    return {
      publicId: created.publicId,
      name: created.name,
      ...(typeof created.monitorId === 'number' ? { monitorId: created.monitorId } : {}),
    };
  }

  async createNotebook(payload: DatadogPayload): Promise<CreatedNotebook> {
    const operation = 'notebook create';
    const { sdk, configuration } = await createSdkConfiguration(this.config, {
      maxRetries: 0,
      timeoutMs: this.callTimeoutMs,
    });
    const body = toModel<v1.NotebookCreateRequest>(sdk, 'v1', payload, 'NotebookCreateRequest', operation);
    const api = new sdk.v1.NotebooksApi(configuration);
    const created = await this.call(operation, () => api.createNotebook({ body }));
    const id = created.data?.id;
    if (typeof id !== 'number') {
      throw new DatadogRequestError(operation, 'invalid_response', 'Datadog answered without the id of the notebook');
    }
    return { id, name: created.data?.attributes.name ?? body.data.attributes.name };
  }

  async createWorkflowInstance(
    workflowId: string,
    inputs: Readonly<Record<string, unknown>>,
  ): Promise<StartedWorkflowInstance> {
    const operation = 'workflow instance create';
    const { sdk, configuration } = await createSdkConfiguration(this.config, {
      maxRetries: 0,
      timeoutMs: this.callTimeoutMs,
    });
    const api = new sdk.v2.WorkflowAutomationApi(configuration);
    const body: v2.WorkflowInstanceCreateRequest = { meta: { payload: { ...inputs } } };
    const created = await this.call(operation, () => api.createWorkflowInstance({ workflowId, body }));
    const instanceId = created.data?.id;
    if (typeof instanceId !== 'string' || !instanceId) {
      throw new DatadogRequestError(operation, 'invalid_response', 'Datadog answered without the id of the instance');
    }
    return { instanceId };
  }

  async validateApiKey(): Promise<ApiKeyValidation> {
    const operation = 'API key validation';
    const { sdk, configuration } = await createSdkConfiguration(this.config, {
      maxRetries: 0,
      timeoutMs: this.validateTimeoutMs,
    });
    const api = new sdk.v1.AuthenticationApi(configuration);
    const answer = await this.call(operation, () => api.validate());
    return { valid: answer.valid === true };
  }

  /** Runs one SDK call and turns its failure into a `DatadogRequestError` of the right kind. */
  private async call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.failure(operation, error);
    }
  }

  private failure(operation: string, error: unknown): DatadogRequestError {
    const code = (error as { code?: unknown } | null)?.code;
    const name = error instanceof Error ? error.name : '';
    if (typeof code === 'number' && code >= 100 && code < 600) {
      // The SDK's ApiException: Datadog answered `code`; its body is `{ errors: [...] }` or the text it sent.
      const datadogErrors = this.errorsOf((error as { body?: unknown }).body);
      const text = datadogErrors.length > 0 ? datadogErrors.join('; ') : 'no error message';
      return new DatadogRequestError(operation, 'rejected', `HTTP ${code}: ${this.bounded(text)}`, {
        cause: error,
        status: code,
        datadogErrors,
      });
    }
    if (name === 'AbortError' || name === 'TimeoutError') {
      const timeout = operation === 'API key validation' ? this.validateTimeoutMs : this.callTimeoutMs;
      return new DatadogRequestError(operation, 'timeout', `no answer within ${timeout} ms`, { cause: error });
    }
    const message = this.bounded(this.scrub(error instanceof Error ? error.message : String(error)));
    if (name === 'FetchError') {
      return new DatadogRequestError(operation, 'unreachable', `no answer: ${message}`, { cause: error });
    }
    return new DatadogRequestError(operation, 'invalid_response', `unreadable answer: ${message}`, { cause: error });
  }

  /** Datadog's error messages (`errors`: strings, or objects with a `detail` or `title`), scrubbed and bounded. */
  private errorsOf(body: unknown): string[] {
    const errors = (body as { errors?: unknown } | null)?.errors;
    const list: unknown[] = Array.isArray(errors) ? errors : typeof body === 'string' && body ? [body] : [];
    return list.slice(0, MAX_ERRORS).map((entry) => this.bounded(this.scrub(messageOf(entry))));
  }

  /**
   * Removes the configured keys from a text, should Datadog or a library ever echo them, and the credentials of the
   * URLs it quotes (node-fetch's `request to <url> failed` names DATADOG_API_URL whole).
   */
  private scrub(text: string): string {
    let out = withoutUrlCredentials(text);
    for (const secret of [this.config.datadog.apiKey, this.config.datadog.appKey]) {
      const value = secret?.reveal();
      if (value) out = out.split(value).join('[REDACTED:DATADOG_KEY]');
    }
    return out;
  }

  private bounded(text: string): string {
    return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
  }
}

/** One entry of Datadog's `errors`: a string, or an object with a `detail` or `title` (JSON:API errors). */
function messageOf(entry: unknown): string {
  if (typeof entry === 'string') return entry;
  if (typeof entry === 'object' && entry !== null) {
    const { detail, title } = entry as { detail?: unknown; title?: unknown };
    if (typeof detail === 'string') return detail;
    if (typeof title === 'string') return title;
  }
  return JSON.stringify(entry) ?? String(entry);
}

/**
 * Reads a wire-format payload into the SDK's model; refuses it (`invalid_payload`, nothing sent) when the model
 * does not take it whole: an unknown key (it would land in `additionalProperties`), a value outside an enum or a
 * oneOf (`_unparsed`), or a missing required field.
 */
export function toModel<T>(
  sdk: DatadogSdk,
  version: 'v1' | 'v2',
  payload: DatadogPayload,
  type: string,
  operation: string,
): T {
  let model: unknown;
  try {
    model = sdk[version].ObjectSerializer.deserialize(payload, type, '') as unknown;
  } catch (error) {
    throw new DatadogRequestError(
      operation,
      'invalid_payload',
      `the payload is not a valid ${type}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const problems = modelProblems(model, '');
  if (problems.length > 0) {
    throw new DatadogRequestError(
      operation,
      'invalid_payload',
      `the payload is not a valid ${type}: ${problems.slice(0, 5).join('; ')}`,
    );
  }
  return model as T;
}

/** Where a deserialized model holds something its class did not take: unknown keys, unparsed values. */
export function modelProblems(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => modelProblems(item, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null || value instanceof Date) return [];
  if (value.constructor?.name === 'UnparsedObject') return [`${path || '(root)'}: not a value the API takes`];
  const problems: string[] = [];
  for (const [key, child] of Object.entries(value) as [string, unknown][]) {
    if (key === '_unparsed') continue;
    if (key === 'additionalProperties' && typeof child === 'object' && child !== null) {
      for (const extra of Object.keys(child)) problems.push(`${path ? `${path}.` : ''}${extra}: unknown field`);
      continue;
    }
    problems.push(...modelProblems(child, path ? `${path}.${key}` : key));
  }
  return problems;
}
