import {
  type DynamicModule,
  type ModuleMetadata,
  Global,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { BasicTextRedactor, ErrorRenderers, RequestOutcomeRecorder, TextRedactor, TraceIdProvider } from '@app/common';
import { TelemetryInterceptor } from './interceptors/telemetry.interceptor';
import { RequestTelemetry } from './interceptors/request-telemetry.service';
import { ReadinessRegistry } from './health/readiness.registry';
import { LogDestination, LogDestinationModule } from './logging/log-destination';
import { loggerOptions } from './logging/logger-options';
import { LogSanitizer } from './logging/log-sanitizer';
import { METRICS } from './metrics/metric-catalog';
import { MetricsPort } from './metrics/metrics.port';
import { RuntimeMetrics } from './metrics/runtime-metrics';
import { StatsdMetricsAdapter } from './metrics/statsd-metrics.adapter';
import { IdleMemoryRelease } from './runtime/idle-memory-release';
import { ProcessMemory } from './runtime/process-memory';
import { V8ProcessMemory } from './runtime/v8-process-memory';
import { DdTracerAdapter } from './tracing/dd-tracer.adapter';
import { NoopTracer, TracerPort } from './tracing/tracer.port';

/**
 * The service's self-instrumentation: DogStatsD metrics, dd-trace spans, pino logs and the global
 * telemetry interceptor. Adapters are chosen from config here; everything else depends on the ports.
 */
export interface TelemetryOptions {
  /**
   * The redactor applied to every text the service logs or traces, and the modules that provide it (the app
   * passes the ML lib's PII redactor: a lower lib receives what it needs and never imports upward).
   * Default: BasicTextRedactor (secrets and e-mails).
   */
  textRedactor?: { imports: NonNullable<ModuleMetadata['imports']>; useExisting: Type<TextRedactor> };
}

/** Drops within this window mark the logs as degraded on /health/ready. */
const LOG_DROPS_RECENT_MS = 60_000;

/** Global, like config: every module emits metrics, spans and logs. Domain modules are not global. */
@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({
      imports: [LogDestinationModule],
      inject: [AppConfig, LogDestination],
      useFactory: (config: AppConfig, destination: LogDestination) => loggerOptions(config, destination.stream),
    }),
    LogDestinationModule,
  ],
  providers: [
    { provide: MetricsPort, inject: [AppConfig], useFactory: (config: AppConfig) => new StatsdMetricsAdapter(config) },
    {
      provide: TracerPort,
      inject: [AppConfig, LogSanitizer],
      useFactory: (config: AppConfig, sanitizer: LogSanitizer): TracerPort =>
        config.tracing.enabled ? new DdTracerAdapter(config, (text) => sanitizer.text(text)) : new NoopTracer(),
    },
    { provide: TraceIdProvider, useExisting: TracerPort },
    LogSanitizer,
    ReadinessRegistry,
    RuntimeMetrics,
    { provide: ProcessMemory, useFactory: (): ProcessMemory => new V8ProcessMemory() },
    IdleMemoryRelease,
    RequestTelemetry,
    { provide: RequestOutcomeRecorder, useExisting: RequestTelemetry },
    // Held here, global like the recorder: the global error filter reads it, the libs with their own error body register.
    ErrorRenderers,
    { provide: APP_INTERCEPTOR, useClass: TelemetryInterceptor },
  ],
  exports: [
    ReadinessRegistry,
    MetricsPort,
    TracerPort,
    TraceIdProvider,
    TextRedactor,
    LogSanitizer,
    RequestTelemetry,
    RequestOutcomeRecorder,
    ErrorRenderers,
  ],
})
export class TelemetryModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly metrics: MetricsPort,
    private readonly logDestination: LogDestination,
    private readonly readiness: ReadinessRegistry,
  ) {}

  static forRoot(options: TelemetryOptions = {}): DynamicModule {
    return {
      module: TelemetryModule,
      imports: options.textRedactor?.imports ?? [],
      providers: [
        options.textRedactor
          ? { provide: TextRedactor, useExisting: options.textRedactor.useExisting }
          : { provide: TextRedactor, useClass: BasicTextRedactor },
      ],
      exports: [TextRedactor],
    };
  }

  onModuleInit(): void {
    this.logDestination.onDrop((lines) => this.metrics.increment(METRICS.logDropped.name, lines));
    this.readiness.register('logs', () => {
      const { lines, msSinceLast } = this.logDestination.drops();
      if (lines === 0) return { status: 'ok', detail: 'stdout keeps up; no line dropped' };
      const recent = msSinceLast !== undefined && msSinceLast < LOG_DROPS_RECENT_MS;
      return {
        status: recent ? 'degraded' : 'ok',
        detail: `${lines} log lines dropped since start (stdout did not keep up; LOG_MAX_BACKLOG_BYTES)${recent ? ', some in the last minute' : ''}`,
      };
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.metrics.close();
  }
}
