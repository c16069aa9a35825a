import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, RequireScope, STORAGE_ERRORS } from '@app/common';
import { SpendReportService } from './spend-report.service';
import { SpendQueryDto, SpendReportDto } from './spend.dto';

@ApiTags('usage')
@RequireScope('read')
@Controller('usage')
export class SpendController {
  constructor(private readonly spend: SpendReportService) {}

  /**
   * Spend per API key (showback) over the last hours, from the usage ledger: per key (optionally also per model or
   * endpoint) the calls, errors, tokens, cost and share of the total cost, the most expensive first. Calls made
   * without a key are grouped as `principal: null`. Recorded calls only (imported usage has no key); read from the
   * hourly rollup by key, never the raw records (docs/ledger.md).
   */
  @Get('spend')
  @ApiOperation({ summary: 'Spend per API key (showback) from the usage ledger' })
  @ApiOkResponse({ type: SpendReportDto })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  spendReport(@Query() query: SpendQueryDto): Promise<SpendReportDto> {
    return this.spend.report(query.hours ?? 24, query.group_by ?? 'principal');
  }
}
