import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, RequireScope, STORAGE_ERRORS } from '@app/common';
import { AppConfig } from '@app/config';
import { HealthScoreQueryDto, HealthScoreResponseDto, toHealthScoreResponse } from './health-score.dto';
import { HealthScoreService } from './health-score.service';

@ApiTags('insights')
@RequireScope('read')
@Controller('insights')
export class InsightsHealthController {
  constructor(
    private readonly health: HealthScoreService,
    private readonly config: AppConfig,
  ) {}

  /**
   * The live LLM health score (0-100) of the last 5 minutes or hour of calls in the usage ledger: overall, its five
   * components, status, the window, and the score per model and per endpoint (docs/health-score.md).
   */
  @Get('health-score')
  @ApiOperation({ summary: 'Live LLM health score from the usage ledger' })
  @ApiOkResponse({ type: HealthScoreResponseDto })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  async healthScore(@Query() query: HealthScoreQueryDto): Promise<HealthScoreResponseDto> {
    const report = await this.health.score(query.window ?? '5m');
    return toHealthScoreResponse(report, { ...this.config.health.weights });
  }
}
