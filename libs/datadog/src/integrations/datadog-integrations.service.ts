import { Injectable } from '@nestjs/common';
import { DomainError, TextRedactor } from '@app/common';
import { AppConfig } from '@app/config';
import { DATADOG_INTEGRATION_ERRORS, toDatadogProblem } from './datadog-integrations.errors';
import { DatadogIntegrationsPort } from './datadog-integrations.port';
import type {
  CreateNotebookDto,
  CreateSyntheticTestDto,
  NotebookCreatedDto,
  SyntheticTestCreatedDto,
  TriggerWorkflowDto,
  WorkflowTriggeredDto,
} from './dto/datadog-integrations.dto';
import { IntegrationTemplates, type NotebookTemplate, type SyntheticKind } from './integration-templates';

const SYNTHETIC_PATHS: Readonly<Record<SyntheticKind, string>> = { health: '/health', qa: '/qa' };
const NOTEBOOK_NAMES: Readonly<Record<NotebookTemplate, string>> = {
  'root-cause': 'Root cause analysis',
  cost: 'LLM cost review',
};

/**
 * Creates what `/datadog/*` asks for in Datadog, from the payload files under `datadog/`: a synthetic test of
 * this service's own `/health` or `/qa` at PUBLIC_BASE_URL (never a URL from the request), a notebook, a workflow
 * instance. A failure is the problem Datadog's answer calls for (`toDatadogProblem`), never a success.
 */
@Injectable()
export class DatadogIntegrationsService {
  constructor(
    private readonly config: AppConfig,
    private readonly datadog: DatadogIntegrationsPort,
    private readonly templates: IntegrationTemplates,
    private readonly redactor: TextRedactor,
  ) {}

  async createSyntheticTest(request: CreateSyntheticTestDto): Promise<SyntheticTestCreatedDto> {
    const publicBaseUrl = this.config.datadog.publicBaseUrl;
    if (!publicBaseUrl) {
      throw new DomainError(
        DATADOG_INTEGRATION_ERRORS.PUBLIC_BASE_URL_NOT_CONFIGURED,
        'set PUBLIC_BASE_URL to the public base URL of this service (https://llm.example.com): synthetic tests call ' +
          'its /health and /qa there; the target is never taken from the request',
      );
    }
    const payload = this.templates.synthetic(request.kind, {
      service: this.config.service.name,
      env: this.config.service.env,
      notify: this.config.datadog.notifyHandles.join(' '),
      publicBaseUrl,
    });
    if (request.locations) payload.locations = [...request.locations];
    if (request.tick_every !== undefined) {
      payload.options = { ...(payload.options as Record<string, unknown>), tick_every: request.tick_every };
    }
    const created = await this.call(() => this.datadog.createSyntheticsApiTest(payload));
    return {
      public_id: created.publicId,
      name: created.name,
      kind: request.kind,
      target_url: `${publicBaseUrl}${SYNTHETIC_PATHS[request.kind]}`,
      locations: payload.locations as string[],
      tick_every: (payload.options as { tick_every: number }).tick_every,
      monitor_id: created.monitorId ?? null,
      url: `${this.config.datadog.appUrl}/synthetics/details/${encodeURIComponent(created.publicId)}`,
    };
  }

  async createNotebook(request: CreateNotebookDto, now = new Date()): Promise<NotebookCreatedDto> {
    const { name: service, env } = this.config.service;
    const title =
      request.title ??
      `${NOTEBOOK_NAMES[request.template]}: ${service} (${env}) ${now.toISOString().slice(0, 16)}Z`.slice(0, 80);
    const window =
      request.time_range_hours === undefined
        ? undefined
        : { start: new Date(now.getTime() - request.time_range_hours * 3_600_000), end: now };
    const context = [
      request.incident_id ? `**Incident:** ${request.incident_id}` : undefined,
      window
        ? `**Time range:** the ${request.time_range_hours} h before ${now.toISOString()} (fixed).`
        : '**Time range:** relative to now (the notebook time selector changes it).',
      `Created by POST /datadog/notebooks/create at ${now.toISOString()}.`,
    ]
      .filter((line) => line !== undefined)
      .join('\n\n');
    const payload = this.templates.notebook(request.template, { service, env, title, context });
    if (window) {
      const attributes = (payload.data as { attributes: Record<string, unknown> }).attributes;
      attributes.time = { start: window.start.toISOString(), end: window.end.toISOString(), live: false };
    }
    const created = await this.call(() => this.datadog.createNotebook(payload));
    return {
      id: created.id,
      name: created.name,
      template: request.template,
      url: `${this.config.datadog.appUrl}/notebook/${created.id}`,
    };
  }

  async triggerWorkflow(request: TriggerWorkflowDto): Promise<WorkflowTriggeredDto> {
    const started = await this.call(() =>
      this.datadog.createWorkflowInstance(request.workflow_id, request.inputs ?? {}),
    );
    return { workflow_id: request.workflow_id, instance_id: started.instanceId };
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toDatadogProblem(error, this.redactor);
    }
  }
}
