import { type DynamicModule, Global, Module, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { BasicTextRedactor, RequestOutcomeRecorder, TextRedactor, TraceIdProvider } from '@app/common';
import { TelemetryInterceptor } from './interceptors/telemetry.interceptor';
import { RequestTelemetry } from './interceptors/request-telemetry.service';
import { ReadinessRegistry } from './health/readiness.registry';
import { loggerOptions } from './logging/logger-options';
import { LogSanitizer } from './logging/log-sanitizer';
import { MetricsPort } from './metrics/metrics.port';
import { StatsdMetricsAdapter } from './metrics/statsd-metrics.adapter';
import { DdTracerAdapter } from './tracing/dd-tracer.adapter';
import { NoopTracer, TracerPort } from './tracing/tracer.port';

/**
 * The service's self-instrumentation: DogStatsD metrics, dd-trace spans, pino logs and the global
 * telemetry interceptor. Adapters are chosen from config here; everything else depends on the ports.
 */
export interface ObservabilityOptions {
  /** The redactor applied to every text the service logs or traces; default: BasicTextRedactor. */
  textRedactor?: Type<TextRedactor>;
}

@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({ inject: [AppConfig], useFactory: (config: AppConfig) => loggerOptions(config) }),
  ],
  providers: [
    { provide: MetricsPort, inject: [AppConfig], useFactory: (config: AppConfig) => new StatsdMetricsAdapter(config) },
    {
      provide: TracerPort,
      inject: [AppConfig],
      useFactory: (config: AppConfig): TracerPort =>
        config.tracing.enabled ? new DdTracerAdapter(config) : new NoopTracer(),
    },
    { provide: TraceIdProvider, useExisting: TracerPort },
    LogSanitizer,
    ReadinessRegistry,
    RequestTelemetry,
    { provide: RequestOutcomeRecorder, useExisting: RequestTelemetry },
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
  ],
})
export class ObservabilityModule implements OnApplicationShutdown {
  constructor(private readonly metrics: MetricsPort) {}

  static forRoot(options: ObservabilityOptions = {}): DynamicModule {
    return {
      module: ObservabilityModule,
      providers: [{ provide: TextRedactor, useClass: options.textRedactor ?? BasicTextRedactor }],
      exports: [TextRedactor],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.metrics.close();
  }
}
