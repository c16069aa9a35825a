import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, RequireScope, STORAGE_ERRORS } from '@app/common';
import { CostForecastQueryDto, CostForecastResponseDto } from './forecast.dto';
import { ForecastService } from './forecast.service';

@ApiTags('forecast')
@RequireScope('read')
@Controller('forecast')
export class ForecastController {
  constructor(private readonly forecasts: ForecastService) {}

  /**
   * Hourly LLM cost forecast for the next hours (default 24) with 80 % prediction intervals, total, peak hour,
   * budget utilisation and risk, which method served (ml or a baseline) and its validation error.
   */
  @Get('cost')
  @ApiOperation({ summary: 'Forecast LLM cost for the next hours' })
  @ApiOkResponse({ type: CostForecastResponseDto })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  costForecast(@Query() query: CostForecastQueryDto): Promise<CostForecastResponseDto> {
    return this.forecasts.costForecast(query.hours ?? 24);
  }
}
