import { Injectable } from '@nestjs/common';
import { monotonicNow, urlForDisplay } from '@app/common';
import { AppConfig } from '@app/config';
import { MetricsPort, TracerPort } from '@app/telemetry';
import { DatadogApiError } from '../datadog.errors';
import { DatadogRequestError } from './datadog-integrations.errors';
import { DatadogIntegrationsPort } from './datadog-integrations.port';
import type { DatadogProductDto, DatadogProductsDto } from './dto/datadog-integrations.dto';

/** How long an API key check is reused. */
export const API_CHECK_CACHE_MS = 60_000;

interface Reachability {
  reachable: boolean | null;
  reason: string;
  checkedAt: string | null;
}

type Product = Omit<DatadogProductDto, 'configured' | 'reachable' | 'reason' | 'checked_at'>;

const API_PRODUCTS: readonly Product[] = [
  {
    product: 'incidents',
    name: 'Incident Management',
    via: 'api',
    use: 'v2 Incidents API: incidents opened and updated from monitor alerts',
  },
  {
    product: 'metrics_query',
    name: 'Metrics (query)',
    via: 'api',
    use: 'v1 metrics query: the usage import of the ledger (npm run ledger:import -- --datadog)',
  },
  {
    product: 'synthetics',
    name: 'Synthetic Monitoring',
    via: 'api',
    use: 'v1 Synthetics API tests of /health and /qa (POST /datadog/synthetics/create)',
  },
  {
    product: 'notebooks',
    name: 'Notebooks',
    via: 'api',
    use: 'v1 Notebooks: root-cause and cost notebooks (POST /datadog/notebooks/create)',
  },
  {
    product: 'workflow_automation',
    name: 'Workflow Automation',
    via: 'api',
    use: 'v2 workflow instances (POST /datadog/workflows/trigger)',
  },
  {
    product: 'monitors_dashboards_slos',
    name: 'Monitors, Dashboards and SLOs',
    via: 'api',
    use: 'provisioned from datadog/ by npm run datadog:apply (not called by the running service)',
  },
];

/**
 * `GET /datadog/products`: every Datadog product the service uses, whether its configuration enables it, and
 * whether it was found reachable, saying what was checked. Nothing is claimed reachable without a check: the REST
 * API by `GET /api/v1/validate` (2 s timeout, result kept 60 s, one check at a time), the agent by its `/info`
 * (the tracer's probe); DogStatsD over UDP and logs on stdout cannot be checked from inside the process, so they
 * are `null` (unknown) with the reason.
 */
@Injectable()
export class DatadogProductsService {
  private cached?: { at: number; result: Promise<Reachability> };

  constructor(
    private readonly config: AppConfig,
    private readonly datadog: DatadogIntegrationsPort,
    private readonly tracer: TracerPort,
    private readonly metrics: MetricsPort,
  ) {}

  /** `now`: the wall clock of `checked_at`; `elapsed`: the monotonic clock that times the API check's cache. */
  async products(now = Date.now(), elapsed = monotonicNow()): Promise<DatadogProductsDto> {
    const [api, agent] = await Promise.all([this.apiReachability(now, elapsed), this.agentReachability()]);
    const tracing = this.tracer.status();
    const statsd = this.metrics.health();
    const configured = this.config.datadog.configured;
    const products: DatadogProductDto[] = [
      {
        product: 'apm_traces',
        name: 'APM (traces)',
        via: 'agent',
        use: `dd-trace spans to the Datadog agent at ${urlForDisplay(this.config.tracing.agentUrl)}`,
        configured: tracing.enabled,
        ...toFields(
          tracing.enabled
            ? agent
            : { reachable: null, reason: 'DD_TRACE_ENABLED=false: no traces are sent', checkedAt: null },
        ),
      },
      {
        product: 'llm_observability',
        name: 'LLM Observability',
        via: 'agent',
        use: 'LLM Observability spans and evaluations through the agent (agentless mode off)',
        configured: tracing.enabled && tracing.llmobsEnabled,
        ...toFields(
          !tracing.enabled
            ? { reachable: null, reason: 'DD_TRACE_ENABLED=false: nothing is sent', checkedAt: null }
            : !tracing.llmobsEnabled
              ? { reachable: null, reason: 'DD_LLMOBS_ENABLED=false: nothing is sent', checkedAt: null }
              : {
                  ...agent,
                  reason: `${agent.reason}; whether the agent forwards LLM Observability events to Datadog is not checked`,
                },
        ),
      },
      {
        product: 'dogstatsd_metrics',
        name: 'Metrics (DogStatsD)',
        via: 'agent',
        use: `custom metrics over DogStatsD to ${statsd.target} (docs/telemetry.md)`,
        configured: true,
        ...toFields(
          statsd.sendErrors > 0
            ? {
                reachable: false,
                reason: `${statsd.sendErrors} send errors in the last minute${statsd.lastError ? `, last: ${statsd.lastError}` : ''}`,
                checkedAt: new Date(now).toISOString(),
              }
            : {
                reachable: null,
                reason: statsd.target.startsWith('unix://')
                  ? 'no send error in the last minute (over the unix socket, an absent agent fails every send); not checked'
                  : 'no send error, but over UDP nothing says whether an agent listens; not checked',
                checkedAt: null,
              },
        ),
      },
      {
        product: 'logs',
        name: 'Log Management',
        via: 'agent',
        use: 'JSON log lines on stdout, collected by the agent (or the platform) with trace correlation',
        configured: true,
        ...toFields({
          reachable: null,
          reason: 'written to stdout; whether anything collects and ships them cannot be seen from the process',
          checkedAt: null,
        }),
      },
      ...API_PRODUCTS.map((product) => ({
        ...product,
        configured,
        ...toFields(
          product.product === 'monitors_dashboards_slos' && api.reachable === true
            ? { ...api, reason: `${api.reason}; whether npm run datadog:apply was run is not checked` }
            : api,
        ),
      })),
    ];
    return { site: this.config.datadog.site, api_url: urlForDisplay(this.config.datadog.apiUrl), products };
  }

  private async agentReachability(): Promise<Reachability> {
    const probe = await this.tracer.probeAgent();
    if (!probe) return { reachable: null, reason: 'the trace agent was not probed', checkedAt: null };
    return {
      reachable: probe.reachable,
      reason: probe.reachable ? `${probe.detail} GET /info (checked within the last seconds)` : probe.detail,
      checkedAt: new Date().toISOString(),
    };
  }

  /**
   * The API key check, reused for 60 s on the monotonic clock (a wall clock stepped back would keep serving it for as
   * long as it went back); concurrent callers share the one in flight.
   */
  private apiReachability(now: number, elapsed: number): Promise<Reachability> {
    if (!this.config.datadog.configured) {
      return Promise.resolve({
        reachable: null,
        reason: 'not configured: set DD_API_KEY and DD_APP_KEY (and DD_SITE) to use it; not checked',
        checkedAt: null,
      });
    }
    if (this.cached && elapsed - this.cached.at < API_CHECK_CACHE_MS) return this.cached.result;
    const result = this.checkApi(now);
    this.cached = { at: elapsed, result };
    return result;
  }

  private async checkApi(now: number): Promise<Reachability> {
    const checkedAt = new Date(now).toISOString();
    try {
      const { valid } = await this.datadog.validateApiKey();
      return valid
        ? {
            reachable: true,
            reason:
              'GET /api/v1/validate answered 200 and accepted the API key; the application key and its permissions ' +
              'for this product are not checked',
            checkedAt,
          }
        : { reachable: false, reason: 'GET /api/v1/validate answered that the API key is not valid', checkedAt };
    } catch (error) {
      if (!(error instanceof DatadogApiError)) throw error;
      if (error instanceof DatadogRequestError && error.kind === 'unconfigured') {
        return { reachable: null, reason: `not checked: ${error.message}`, checkedAt: null };
      }
      const detail =
        error.status === 403
          ? 'GET /api/v1/validate answered 403: Datadog refuses the API key'
          : `GET /api/v1/validate failed: ${error.message}`;
      return { reachable: false, reason: detail.slice(0, 300), checkedAt };
    }
  }
}

function toFields(state: Reachability): Pick<DatadogProductDto, 'reachable' | 'reason' | 'checked_at'> {
  return { reachable: state.reachable, reason: state.reason, checked_at: state.checkedAt };
}
