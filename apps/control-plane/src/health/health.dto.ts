import { ApiInteger } from '@app/common';
import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

/** Liveness: the process is up and serving. */
export class LivenessDto {
  /** Always "ok" when the process answers. */
  status!: 'ok';
}

/** The state of one dependency of the service. */
export class DependencyStatusDto {
  /**
   * ok: checked and working; unverified: configured, no failure seen, but nothing could check it (DogStatsD over
   * UDP: nothing answers a datagram); degraded: configured but failing; disabled: turned off by config;
   * unconfigured: no credentials.
   */
  status!: 'ok' | 'unverified' | 'degraded' | 'disabled' | 'unconfigured';
  /** What was checked, in words. */
  detail!: string;
}

/** Readiness: each dependency reported separately. Degraded telemetry does not make the service unready. */
export class ReadinessDto {
  /** ready unless a dependency the request path needs is down; telemetry problems only degrade. */
  status!: 'ready' | 'degraded';
  service!: string;
  env!: string;
  version!: string;
  /** Seconds since the process started. */
  @ApiInteger()
  uptimeSeconds!: number;
  /** Each dependency by name (metrics, tracer, datadogApi, logs, ledger, llmProvider...). */
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(DependencyStatusDto) } })
  dependencies!: Record<string, DependencyStatusDto>;
}
