import { Body, Controller, Delete, Get, HttpCode, Logger, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, DomainError, RequestValidationError, RequireScope } from '@app/common';
import { LLM_ERRORS } from '../llm.errors';
import { LlmProvider } from '../ports/llm-provider.port';
import { FaultDrillStatusDto, StartFaultDrillDto } from './fault-drill.dto';
import { type ActiveFaultDrill, ProviderFaultDrill } from './provider-fault-drill';

const DEFAULT_DURATION_S = 60;

/**
 * The simulated provider's fault injection at run time (docs/operations.md, "Drills"): start it for a while, see it,
 * stop it. Refused (409) with a real provider: a drill never touches real calls.
 */
@ApiTags('llm')
@Controller('llm/drills/faults')
export class FaultDrillController {
  private readonly logger = new Logger('FaultDrill');

  constructor(
    private readonly drill: ProviderFaultDrill,
    private readonly provider: LlmProvider,
  ) {}

  /** Turns on the simulated provider's faults for `duration_s` seconds (a running drill is replaced). */
  @Post()
  @HttpCode(200)
  @RequireScope('admin')
  @ApiOperation({ summary: 'Start a fault drill in the simulated provider (admin)' })
  @ApiOkResponse({ type: FaultDrillStatusDto })
  @ApiProblems('VALIDATION_FAILED', LLM_ERRORS.FAULT_DRILL_UNAVAILABLE)
  startFaultDrill(@Body() body: StartFaultDrillDto): FaultDrillStatusDto {
    this.assertSimulated();
    const rates = {
      errorRate: body.error_rate ?? 0,
      rateLimitRate: body.rate_limit_rate ?? 0,
      timeoutRate: body.timeout_rate ?? 0,
      slowRate: body.slow_rate ?? 0,
    };
    if (Object.values(rates).every((r) => r === 0)) {
      throw new RequestValidationError([
        {
          field: 'error_rate',
          reason:
            'a fault drill needs at least one rate above 0 (error_rate, rate_limit_rate, timeout_rate, slow_rate)',
        },
      ]);
    }
    const durationS = body.duration_s ?? DEFAULT_DURATION_S;
    const started = this.drill.start(rates, durationS * 1000);
    this.logger.warn(
      `fault drill started for ${durationS} s: error ${rates.errorRate}, 429 ${rates.rateLimitRate}, timeout ${rates.timeoutRate}, slow ${rates.slowRate}`,
    );
    return this.status(started);
  }

  /** The fault drill in force. */
  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'The fault drill in force' })
  @ApiOkResponse({ type: FaultDrillStatusDto })
  faultDrillStatus(): FaultDrillStatusDto {
    return this.status(this.drill.active());
  }

  /** Ends the running drill now (nothing to do when none runs). */
  @Delete()
  @HttpCode(200)
  @RequireScope('admin')
  @ApiOperation({ summary: 'Stop the fault drill (admin)' })
  @ApiOkResponse({ type: FaultDrillStatusDto })
  stopFaultDrill(): FaultDrillStatusDto {
    if (this.drill.stop()) this.logger.warn('fault drill stopped');
    return this.status(undefined);
  }

  private assertSimulated(): void {
    if (this.provider.simulated) return;
    throw new DomainError(
      LLM_ERRORS.FAULT_DRILL_UNAVAILABLE,
      `The provider is ${this.provider.name}: faults are injected only into the simulated provider (LLM_PROVIDER=simulated).`,
    );
  }

  private status(drill: ActiveFaultDrill | undefined): FaultDrillStatusDto {
    const rates = drill?.rates;
    return {
      active: drill !== undefined,
      provider: this.provider.name,
      error_rate: rates?.errorRate ?? 0,
      rate_limit_rate: rates?.rateLimitRate ?? 0,
      timeout_rate: rates?.timeoutRate ?? 0,
      slow_rate: rates?.slowRate ?? 0,
      started_at: drill ? new Date(drill.startedAt).toISOString() : null,
      ends_at: drill ? new Date(drill.endsAt).toISOString() : null,
    };
  }
}
