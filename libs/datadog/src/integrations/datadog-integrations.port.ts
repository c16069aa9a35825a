/** A Datadog API payload in its wire format (snake_case JSON, as in the files under `datadog/`). */
export type DatadogPayload = Readonly<Record<string, unknown>>;

/** The synthetic test Datadog created. */
export interface CreatedSyntheticTest {
  /** Datadog's public id of the test (`abc-def-ghi`). */
  publicId: string;
  name: string;
  /** The id of the monitor Datadog attached to the test, when it says. */
  monitorId?: number;
}

/** The notebook Datadog created. */
export interface CreatedNotebook {
  id: number;
  name: string;
}

/** The workflow instance Datadog started. */
export interface StartedWorkflowInstance {
  instanceId: string;
}

/** What `GET /api/v1/validate` said: Datadog answered and accepted the API key. */
export interface ApiKeyValidation {
  valid: boolean;
}

/**
 * Port: the Datadog products the control plane creates things in on request: Synthetics (v1 API tests), Notebooks
 * (v1), Workflow Automation (v2 instances), and the API key check (v1 validate). Every method rejects with a
 * `DatadogRequestError` (a `DatadogApiError` with the kind of failure): Datadog's status when it answered, no fake
 * success. Without keys the local default refuses every call, naming what to configure.
 */
export abstract class DatadogIntegrationsPort {
  /** `datadog` when keys are configured, `unconfigured` otherwise. */
  abstract readonly name: 'datadog' | 'unconfigured';
  /** v1 `POST /api/v1/synthetics/tests/api` with a `SyntheticsAPITest` payload. */
  abstract createSyntheticsApiTest(payload: DatadogPayload): Promise<CreatedSyntheticTest>;
  /** v1 `POST /api/v1/notebooks` with a `NotebookCreateRequest` payload. */
  abstract createNotebook(payload: DatadogPayload): Promise<CreatedNotebook>;
  /** v2 `POST /api/v2/workflows/{workflow_id}/instances` with `{ meta: { payload: inputs } }`. */
  abstract createWorkflowInstance(
    workflowId: string,
    inputs: Readonly<Record<string, unknown>>,
  ): Promise<StartedWorkflowInstance>;
  /** v1 `GET /api/v1/validate`, with a short timeout: whether Datadog answers and accepts the API key. */
  abstract validateApiKey(): Promise<ApiKeyValidation>;
}
