import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { createValidationPipe, ProblemDetailsFilter, UndeclaredQueryGuard } from '@app/common';
import { type AppConfig, ConfigModule } from '@app/config';
import { ControlRoomModule } from '@app/control-room';
import { DatadogModule } from '@app/datadog';
import { LedgerModule } from '@app/ledger';
import { LlmModule } from '@app/llm';
import { ForecastModule } from '@app/forecast';
import { HealthScoreModule } from '@app/health-score';
import { IncidentsModule } from '@app/incidents';
import { InsightsModule } from '@app/insights';
import { MlModule, PiiTextRedactor } from '@app/ml';
import { ApiKeyGuard, SecurityModule } from '@app/security';
import { TelemetryModule } from '@app/telemetry';
import { HealthModule } from './health/health.module';

/**
 * The control plane: one Nest application composed of the libraries' modules. The configuration is
 * validated before this module is built and passed in.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forConfig(config),
        TelemetryModule.forRoot({ textRedactor: { imports: [MlModule], useExisting: PiiTextRedactor } }),
        MlModule,
        LedgerModule,
        ForecastModule,
        HealthScoreModule,
        InsightsModule,
        HealthModule,
        LlmModule,
        DatadogModule,
        IncidentsModule,
        SecurityModule,
        ControlRoomModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        // Every controller route is checked against its access rule (docs/security.md); a route without one is refused.
        { provide: APP_GUARD, useExisting: ApiKeyGuard },
        // Then a query string on a route that declares none is refused, as an unknown field is (docs/errors.md).
        { provide: APP_GUARD, useClass: UndeclaredQueryGuard },
      ],
    };
  }
}
