import { DatadogRequestError } from '../datadog-integrations.errors';
import {
  type ApiKeyValidation,
  type CreatedNotebook,
  type CreatedSyntheticTest,
  DatadogIntegrationsPort,
  type StartedWorkflowInstance,
} from '../datadog-integrations.port';

const WHAT_TO_CONFIGURE =
  'needs DD_API_KEY and DD_APP_KEY (and DD_SITE or DATADOG_API_URL); they are not both set, so nothing was sent';

/** The local default without DD_API_KEY and DD_APP_KEY: every call is refused, saying what to configure. */
export class UnconfiguredDatadogIntegrations extends DatadogIntegrationsPort {
  readonly name = 'unconfigured';

  createSyntheticsApiTest(): Promise<CreatedSyntheticTest> {
    return refuse('synthetic test create');
  }

  createNotebook(): Promise<CreatedNotebook> {
    return refuse('notebook create');
  }

  createWorkflowInstance(): Promise<StartedWorkflowInstance> {
    return refuse('workflow instance create');
  }

  validateApiKey(): Promise<ApiKeyValidation> {
    return refuse('API key validation');
  }
}

function refuse(operation: string): Promise<never> {
  return Promise.reject(new DatadogRequestError(operation, 'unconfigured', WHAT_TO_CONFIGURE));
}
