import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@app/common';
import { ModelRouter } from './model-router';
import { RouteConstraintsDto, RouterStatusDto } from './router.dto';

@ApiTags('llm')
@ApiExtraModels(RouteConstraintsDto)
@Controller('llm')
export class RouterController {
  constructor(private readonly router: ModelRouter) {}

  /** The model router's mode, candidates, default constraints, predictor state and its decisions of the last hour. */
  @Get('router')
  @RequireScope('read')
  @ApiOperation({ summary: 'Model router status and recent decisions' })
  @ApiOkResponse({ type: RouterStatusDto })
  routerStatus(): RouterStatusDto {
    const status = this.router.status();
    return {
      ...status,
      candidates: [...status.candidates],
      predictor: { ...status.predictor, models: [...status.predictor.models] },
    };
  }
}
