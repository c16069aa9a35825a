import { Body, Controller, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, RequireScope, STORAGE_ERRORS } from '@app/common';
import { AnomalyAttributionService } from './attribution/anomaly-attribution.service';
import { ATTRIBUTION_ERRORS } from './attribution/attribution.errors';
import {
  type AnomalyMetric,
  AnomalyAttributionResponseDto,
  AttributeAnomalyQueryDto,
  AttributeAnomalyRequestDto,
  parseTimestamp,
} from './dto/anomaly-attribution.dto';

/** An optional timestamp: `@IsOptional()` lets `null` through as well as a missing field; both mean "now". */
const parseTime = (iso: string | null | undefined): number | undefined =>
  iso === undefined || iso === null ? undefined : parseTimestamp(iso);

@ApiTags('optimization')
@RequireScope('read')
@Controller('optimization')
export class InsightsController {
  constructor(private readonly attribution: AnomalyAttributionService) {}

  /**
   * Attributes a change of a metric (cost, latency, errors, quality) to endpoints (request types), providers and
   * models: the analysis window against the baseline window, from the usage ledger or (`source: datadog`) the
   * service's metrics in Datadog. Without data in a window it says so, with null figures.
   */
  @Post('attribute-anomaly')
  @HttpCode(200)
  @ApiOperation({ summary: 'Attribute a metric anomaly to endpoints, providers and models' })
  @ApiOkResponse({ type: AnomalyAttributionResponseDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    ATTRIBUTION_ERRORS.ATTRIBUTION_SOURCE_UNCONFIGURED,
    ATTRIBUTION_ERRORS.ATTRIBUTION_SOURCE_FAILED,
    STORAGE_ERRORS.DATABASE_UNAVAILABLE,
  )
  attributeAnomaly(@Body() body: AttributeAnomalyRequestDto): Promise<AnomalyAttributionResponseDto> {
    return this.attribution.attribute({
      metric: body.metric,
      anomalyAt: parseTime(body.anomalyTimestamp),
      baselineHours: body.baselinePeriodHours ?? 24,
      analysisHours: body.analysisWindowHours ?? 1,
      source: body.source,
    });
  }

  /**
   * The origin's form of `attribute-anomaly`, with query parameters (`metric_name`, `anomaly_timestamp`,
   * `baseline_period_hours`, `analysis_window_hours`); same report. A bad timestamp is a 400 naming the field.
   */
  @Post('anomaly/attribute')
  @HttpCode(200)
  @ApiOperation({ summary: 'Attribute a metric anomaly (origin-compatible query form)' })
  @ApiOkResponse({ type: AnomalyAttributionResponseDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    ATTRIBUTION_ERRORS.ATTRIBUTION_SOURCE_UNCONFIGURED,
    ATTRIBUTION_ERRORS.ATTRIBUTION_SOURCE_FAILED,
    STORAGE_ERRORS.DATABASE_UNAVAILABLE,
  )
  attributeAnomalyByQuery(@Query() query: AttributeAnomalyQueryDto): Promise<AnomalyAttributionResponseDto> {
    return this.attribution.attribute({
      metric: query.metric_name as AnomalyMetric,
      anomalyAt: parseTime(query.anomaly_timestamp),
      baselineHours: query.baseline_period_hours ?? 24,
      analysisHours: query.analysis_window_hours ?? 1,
      source: query.source,
    });
  }
}
