import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
import { MetricsPort, ReadinessRegistry, SkipTelemetry, TracerPort } from '@app/telemetry';
import { LivenessDto, ReadinessDto, type DependencyStatusDto } from './health.dto';

@ApiTags('health')
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
    const metrics = this.metrics.health();
    const tracer = this.tracer.status();
    const agent = await this.tracer.probeAgent();
    const llmobs = `LLM Observability ${tracer.llmobsEnabled ? 'on' : 'off'}`;
    const dependencies: Record<string, DependencyStatusDto> = {
      metrics: metrics.ok
        ? { status: 'ok', detail: `DogStatsD ${metrics.target}` }
        : {
            status: 'degraded',
            detail: `DogStatsD ${metrics.target}: ${metrics.sendErrors} send errors, last: ${metrics.lastError ?? 'n/a'}`,
          },
      tracer: !tracer.enabled
        ? { status: 'disabled', detail: 'DD_TRACE_ENABLED=false' }
        : agent === undefined || agent.reachable
          ? { status: 'ok', detail: `dd-trace sending to ${tracer.agentUrl ?? 'agent'}; ${llmobs}` }
          : {
              status: 'degraded',
              detail: `${agent.detail}: traces and LLM Observability events are dropped until it answers; ${llmobs}`,
            },
      datadogApi: this.config.datadog.configured
        ? { status: 'ok', detail: `keys configured for ${this.config.datadog.apiUrl}` }
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
