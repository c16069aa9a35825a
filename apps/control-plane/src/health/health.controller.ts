import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AcceptsAnyQuery, Public, urlForDisplay } from '@app/common';
import { AppConfig } from '@app/config';
import { type MetricsHealth, MetricsPort, ReadinessRegistry, SkipTelemetry, TracerPort } from '@app/telemetry';
import { DependencyStatusDto, LivenessDto, ReadinessDto } from './health.dto';

@ApiTags('health')
@Public()
// Probes answer whatever query string a load balancer or a monitor appends: they read none.
@AcceptsAnyQuery()
@ApiExtraModels(DependencyStatusDto)
@Controller('health')
export class HealthController {
  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsPort,
    private readonly tracer: TracerPort,
    private readonly registry: ReadinessRegistry,
  ) {}

  /** Liveness probe: answers while the process runs. Not traced, metered or logged. */
  @Get()
  @SkipTelemetry()
  @ApiOperation({ summary: 'Liveness probe' })
  @ApiOkResponse({ type: LivenessDto, description: 'The process is up.' })
  liveness(): LivenessDto {
    return { status: 'ok' };
  }

  /** Readiness probe: the state of each dependency (metrics socket, tracer, Datadog API, model provider...). */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness probe with the state of each dependency' })
  @ApiOkResponse({ type: ReadinessDto, description: 'Each dependency and its state.' })
  async readiness(): Promise<ReadinessDto> {
    const tracer = this.tracer.status();
    const agent = await this.tracer.probeAgent();
    const llmobs = `LLM Observability ${tracer.llmobsEnabled ? 'on' : 'off'}`;
    // Public: configured URLs are shown without their user information or query (a proxy's credentials).
    const agentUrl = tracer.agentUrl === undefined ? 'agent' : urlForDisplay(tracer.agentUrl);
    // `ok` only for what was checked.
    const dependencies: Record<string, DependencyStatusDto> = {
      metrics: metricsStatus(this.metrics.health()),
      tracer: !tracer.enabled
        ? { status: 'disabled', detail: 'DD_TRACE_ENABLED=false' }
        : agent === undefined
          ? { status: 'unverified', detail: `dd-trace sending to ${agentUrl}, not probed; ${llmobs}` }
          : agent.reachable
            ? { status: 'ok', detail: `dd-trace sending to ${agentUrl}, /info answers; ${llmobs}` }
            : {
                status: 'degraded',
                detail: `${agent.detail}: traces and LLM Observability events are dropped until it answers; ${llmobs}`,
              },
      datadogApi: this.config.datadog.configured
        ? {
            status: 'unverified',
            detail: `keys configured for ${urlForDisplay(this.config.datadog.apiUrl)}; not checked (readiness does not call the API)`,
          }
        : {
            status: 'unconfigured',
            detail: 'DD_API_KEY and DD_APP_KEY not both set; Datadog API features use local fallbacks',
          },
    };
    Object.assign(dependencies, await this.registry.run());
    const degraded = Object.values(dependencies).some((d) => d.status === 'degraded');
    return {
      status: degraded ? 'degraded' : 'ready',
      service: this.config.service.name,
      env: this.config.service.env,
      version: this.config.service.version,
      uptimeSeconds: Math.round(process.uptime()),
      dependencies,
    };
  }
}

/**
 * DogStatsD over UDP: a datagram sent to a port nobody listens on fails nowhere the client can see, so the best it
 * can say is `unverified` (no send error); `degraded` when sends did fail in the last minute. Over the agent's unix
 * socket (DD_DOGSTATSD_URL unix:///…) an absent agent fails every send, so no error in the last minute is `ok`.
 */
function metricsStatus(metrics: MetricsHealth): DependencyStatusDto {
  if (!metrics.ok) {
    return {
      status: 'degraded',
      detail: `DogStatsD ${metrics.target}: ${metrics.sendErrors} send errors, last: ${metrics.lastError ?? 'n/a'}`,
    };
  }
  if (metrics.target.startsWith('udp://')) {
    return {
      status: 'unverified',
      detail: `DogStatsD ${metrics.target}: no send error in the last minute, but over UDP nothing says whether anything listens`,
    };
  }
  return { status: 'ok', detail: `metrics to ${metrics.target}` };
}
