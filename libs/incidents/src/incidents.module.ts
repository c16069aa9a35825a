import { Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { DatadogIncidentsPort, DatadogModule } from '@app/datadog';
import { ReadinessRegistry } from '@app/telemetry';
import { IncidentContentBuilder } from './content/incident-content';
import { IncidentDeliveryWorker } from './delivery/incident-delivery.worker';
import { IncidentAnswerStatusInterceptor } from './incident-answer-status.interceptor';
import { IncidentsController } from './incidents.controller';
import { IncidentsService } from './incidents.service';
import { createIncidentOutboxStore } from './outbox/incident-outbox.factory';
import { IncidentOutboxStore } from './outbox/incident-outbox.port';
import { defaultRunbooksDir, RunbookCatalog } from './runbooks/runbook-catalog';
import { WebhookSecretGuard } from './webhook/webhook-secret.guard';

/**
 * The incident manager (docs/incidents.md): `/incidents/*`, the outbox (SQLite under DATA_DIR, or PostgreSQL with
 * DATABASE_URL) and its delivery worker over `DatadogIncidentsPort`, the runbooks under `runbooks/`.
 */
@Module({
  imports: [DatadogModule],
  controllers: [IncidentsController],
  providers: [
    { provide: IncidentOutboxStore, inject: [AppConfig], useFactory: createIncidentOutboxStore },
    { provide: RunbookCatalog, useFactory: () => new RunbookCatalog(defaultRunbooksDir()) },
    IncidentContentBuilder,
    IncidentDeliveryWorker,
    IncidentsService,
    WebhookSecretGuard,
    IncidentAnswerStatusInterceptor,
  ],
  exports: [IncidentsService],
})
export class IncidentsModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly store: IncidentOutboxStore,
    private readonly datadog: DatadogIncidentsPort,
    private readonly readiness: ReadinessRegistry,
    private readonly worker: IncidentDeliveryWorker,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.store.init();
    this.readiness.register('incidents', async () => {
      const stats = await this.store.stats(Date.now());
      const waiting = stats.pending + stats.delivering;
      const detail = `${this.store.kind} outbox: ${waiting} waiting, ${stats.failed} failed, ${stats.delivered} delivered`;
      if (this.datadog.name === 'unconfigured') {
        return { status: 'unconfigured', detail: `${detail}; Datadog API keys not configured` };
      }
      // Datadog refusing the deliveries (wrong keys, an outage) is degraded: every alert waits in the outbox.
      const problem = this.worker.deliveryProblem();
      return problem === undefined ? { status: 'ok', detail } : { status: 'degraded', detail: `${detail}; ${problem}` };
    });
  }

  /** After the worker stopped (beforeApplicationShutdown): the store closes last. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close().catch(() => undefined);
  }
}
