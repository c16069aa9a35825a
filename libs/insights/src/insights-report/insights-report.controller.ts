import { Body, Controller, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, createValidationPipe, RequireScope, STORAGE_ERRORS } from '@app/common';
import { InsightsQueryDto, InsightsRequestDto, InsightsResponseDto } from './insights-report.dto';
import { InsightsReportService } from './insights-report.service';

@ApiTags('insights')
@RequireScope('read')
@Controller('insights')
export class InsightsReportController {
  private readonly validation = createValidationPipe();

  constructor(private readonly insights: InsightsReportService) {}

  /**
   * Insights: the health summary, recommendations (title, category, priority, confidence, evidence, expected
   * impact), predictive insights and the top 5 actions. With no body (or `{}`) from live data: the usage ledger's last
   * 5 minutes against the last hour, prompt sizes over a day, the budget forecast and quality drift. With the origin's
   * body (caller-supplied aggregates) it scores those instead. A field out of range is a 400 naming it.
   */
  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Health summary, recommendations and predictive insights (live, or from posted aggregates)',
  })
  @ApiBody({ type: InsightsRequestDto, required: false })
  @ApiOkResponse({ type: InsightsResponseDto })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  async insightsReport(
    @Body() raw: unknown,
    // The origin's `compute_health_score`, validated (a boolean) and ignored as it was there.
    @Query() _query: InsightsQueryDto,
  ): Promise<InsightsResponseDto> {
    // No body at all asks for live data, so the global pipe (which requires a JSON object) is applied here instead.
    const body =
      raw === undefined || raw === null
        ? undefined
        : ((await this.validation.transform(raw, {
            type: 'body',
            metatype: InsightsRequestDto,
            data: '',
          })) as InsightsRequestDto);
    return this.insights.insights(body);
  }
}
