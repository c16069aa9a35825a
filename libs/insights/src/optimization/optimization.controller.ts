import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, createValidationPipe, RequireScope, STORAGE_ERRORS } from '@app/common';
import {
  CreateRecommendationDto,
  CreateRecommendationResponseDto,
  DEFAULT_RECOMMENDATION_PAGE,
  ImplementRecommendationDto,
  ImplementRecommendationResponseDto,
  ListRecommendationsQueryDto,
  RecommendationDetailDto,
  RecommendationSummaryDto,
  RecordResultDto,
  RecordResultResponseDto,
} from './dto/recommendation.dto';
import { RoiReportQueryDto, RoiReportRequestDto, RoiReportResponseDto } from './dto/roi-report.dto';
import { OPTIMIZATION_ERRORS } from './optimization.errors';
import { OptimizationService } from './optimization.service';

/** The reply, for the paging headers (passthrough: Nest still sends the returned value). */
interface HeaderReply {
  header(name: string, value: string): unknown;
}

/** The header holding the next page's cursor of the list. */
export const NEXT_CURSOR_HEADER = 'x-next-cursor';

/** Cost-optimisation recommendations, their results measured from the usage ledger, and the ROI report. */
@ApiTags('optimization')
@Controller('optimization')
export class OptimizationController {
  private readonly validation = createValidationPipe();

  constructor(private readonly optimization: OptimizationService) {}

  /**
   * A body whose every field is optional may be left out (`curl -X POST .../implement`): none reads as `{}`. The
   * global pipe requires a JSON object, so the body is validated here instead, by the same pipe (unknown fields,
   * types and ranges are refused as everywhere).
   */
  private async optionalBody<T extends object>(raw: unknown, metatype: new () => T): Promise<T> {
    return (await this.validation.transform(raw ?? {}, { type: 'body', metatype, data: '' })) as T;
  }

  /** Records a recommendation (pending). */
  @Post('recommendations')
  @RequireScope('admin')
  @ApiOperation({ summary: 'Create a cost-optimisation recommendation' })
  @ApiCreatedResponse({ type: CreateRecommendationResponseDto })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  createRecommendation(@Body() body: CreateRecommendationDto): Promise<CreateRecommendationResponseDto> {
    return this.optimization.create(body);
  }

  /**
   * Recommendations, newest first, with their total measured savings and latest ROI: the origin's bare array, a page
   * at a time (`limit`, default 50). When there are older ones, `X-Next-Cursor` holds the cursor of the next page and
   * `Link` its address (`rel="next"`, RFC 8288), as GitHub's API pages its arrays.
   */
  @Get('recommendations')
  @RequireScope('read')
  @ApiOperation({ summary: 'List recommendations, newest first, a page at a time' })
  @ApiOkResponse({
    type: RecommendationSummaryDto,
    isArray: true,
    headers: {
      [NEXT_CURSOR_HEADER]: {
        description: 'Pass as `cursor` for the next (older) page; absent on the last page.',
        schema: { type: 'string' },
      },
      Link: {
        description: 'The next page\'s address, `<...>; rel="next"`; absent on the last page.',
        schema: { type: 'string' },
      },
    },
  })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  async listRecommendations(
    @Query() query: ListRecommendationsQueryDto,
    @Res({ passthrough: true }) reply: HeaderReply,
  ): Promise<RecommendationSummaryDto[]> {
    const limit = query.limit ?? DEFAULT_RECOMMENDATION_PAGE;
    const page = await this.optimization.list(limit, query.cursor);
    if (page.next_cursor !== null) {
      reply.header(NEXT_CURSOR_HEADER, page.next_cursor);
      reply.header('link', `</optimization/recommendations?limit=${limit}&cursor=${page.next_cursor}>; rel="next"`);
    }
    return page.entries;
  }

  /** One recommendation with its baseline, its results and total savings. */
  @Get('recommendations/:id')
  @RequireScope('read')
  @ApiOperation({ summary: 'Get a recommendation with its results' })
  @ApiOkResponse({ type: RecommendationDetailDto })
  @ApiProblems(OPTIMIZATION_ERRORS.RECOMMENDATION_NOT_FOUND, STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  getRecommendation(@Param('id') id: string): Promise<RecommendationDetailDto> {
    return this.optimization.get(id);
  }

  /**
   * Marks a recommendation implemented now and records its baseline from the usage ledger: the 7 days before
   * (requests, cost, cost per request, requests per hour). `baseline_metrics` is kept as sent, for reference.
   */
  @Post('recommendations/:id/implement')
  @RequireScope('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Implement a recommendation (records its baseline from the ledger)' })
  @ApiBody({ type: ImplementRecommendationDto, required: false })
  @ApiOkResponse({ type: ImplementRecommendationResponseDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    OPTIMIZATION_ERRORS.RECOMMENDATION_NOT_FOUND,
    OPTIMIZATION_ERRORS.RECOMMENDATION_ALREADY_IMPLEMENTED,
    STORAGE_ERRORS.DATABASE_UNAVAILABLE,
  )
  async implementRecommendation(
    @Param('id') id: string,
    @Body() raw: unknown,
  ): Promise<ImplementRecommendationResponseDto> {
    const body = await this.optionalBody(raw, ImplementRecommendationDto);
    return this.optimization.implement(id, body.baseline_metrics);
  }

  /**
   * Measures and stores a result from the ledger: the baseline window against the window since implementation or
   * the previous result, whichever is later (at most `period_days`, ending now), so results never overlap. 409 when
   * not implemented yet, or when a window has no priced requests.
   */
  @Post('recommendations/:id/record-result')
  @RequireScope('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Measure and record the result of an implemented recommendation' })
  @ApiBody({ type: RecordResultDto, required: false })
  @ApiOkResponse({ type: RecordResultResponseDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    OPTIMIZATION_ERRORS.RECOMMENDATION_NOT_FOUND,
    OPTIMIZATION_ERRORS.RECOMMENDATION_NOT_IMPLEMENTED,
    OPTIMIZATION_ERRORS.INSUFFICIENT_USAGE,
    'CONFLICT',
    STORAGE_ERRORS.DATABASE_UNAVAILABLE,
  )
  async recordResult(@Param('id') id: string, @Body() raw: unknown): Promise<RecordResultResponseDto> {
    const body = await this.optionalBody(raw, RecordResultDto);
    return this.optimization.recordResult(id, body.period_days ?? 7);
  }

  /** ROI over the results whose measured window ended in the last `days` days, optionally of one category. */
  @Get('roi-report')
  @RequireScope('read')
  @ApiOperation({ summary: 'ROI report by period and category' })
  @ApiOkResponse({ type: RoiReportResponseDto })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  roiReport(@Query() query: RoiReportQueryDto): Promise<RoiReportResponseDto> {
    return this.optimization.roiReport(query.days ?? 7, query.category);
  }

  /** The same report with a JSON body `{days, category}`. */
  @Post('roi-report')
  @RequireScope('read')
  @HttpCode(200)
  @ApiOperation({ summary: 'ROI report by period and category (JSON body form)' })
  @ApiBody({ type: RoiReportRequestDto, required: false })
  @ApiOkResponse({ type: RoiReportResponseDto })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  async roiReportByBody(@Body() raw: unknown): Promise<RoiReportResponseDto> {
    const body = await this.optionalBody(raw, RoiReportRequestDto);
    return this.optimization.roiReport(body.days ?? 7, body.category);
  }
}
