import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, HTTP_ERRORS, RequireScope } from '@app/common';
import { DATADOG_INTEGRATION_ERRORS as E } from './datadog-integrations.errors';
import { DatadogIntegrationsService } from './datadog-integrations.service';
import { DatadogProductsService } from './datadog-products.service';
import {
  CreateNotebookDto,
  CreateSyntheticTestDto,
  DatadogProductsDto,
  NotebookCreatedDto,
  SyntheticTestCreatedDto,
  TriggerWorkflowDto,
  WorkflowTriggeredDto,
} from './dto/datadog-integrations.dto';

/** Every failure a call to Datadog can answer with. */
const DATADOG_FAILURES = [
  E.DATADOG_BAD_REQUEST,
  E.DATADOG_UNAUTHORIZED,
  E.DATADOG_FORBIDDEN,
  E.DATADOG_NOT_FOUND,
  E.DATADOG_CONFLICT,
  E.DATADOG_UNPROCESSABLE,
  E.DATADOG_RATE_LIMITED,
  E.DATADOG_REQUEST_REJECTED,
  E.DATADOG_UPSTREAM_ERROR,
  E.DATADOG_UNREACHABLE,
  E.DATADOG_NOT_CONFIGURED,
  E.DATADOG_TIMEOUT,
] as const;

/** The Datadog products this service uses, and what it creates in them on request (docs/datadog-integrations.md). */
@ApiTags('datadog')
@Controller('datadog')
export class DatadogIntegrationsController {
  constructor(
    private readonly integrations: DatadogIntegrationsService,
    private readonly catalogue: DatadogProductsService,
  ) {}

  /**
   * Each Datadog product this service uses, whether it is configured, and whether it was found reachable (true,
   * false, or null when it cannot be checked), with what was checked.
   */
  @Get('products')
  @RequireScope('read')
  @ApiOperation({ summary: 'The Datadog products this service uses, configured and reachable' })
  @ApiOkResponse({ type: DatadogProductsDto })
  products(): Promise<DatadogProductsDto> {
    return this.catalogue.products();
  }

  /**
   * Creates a Datadog synthetic API test of this service's `/health` or `/qa` at PUBLIC_BASE_URL (never a URL
   * from the request), tagged with the service and env, notifying DATADOG_NOTIFY_HANDLES.
   */
  @Post('synthetics/create')
  @RequireScope('admin')
  @ApiOperation({ summary: 'Create a Datadog synthetic test of /health or /qa' })
  @ApiCreatedResponse({ type: SyntheticTestCreatedDto })
  @ApiProblems(HTTP_ERRORS.VALIDATION_FAILED, E.PUBLIC_BASE_URL_NOT_CONFIGURED, ...DATADOG_FAILURES)
  createSyntheticTest(@Body() body: CreateSyntheticTestDto): Promise<SyntheticTestCreatedDto> {
    return this.integrations.createSyntheticTest(body);
  }

  /** Creates a Datadog notebook (root-cause or cost) over the metrics this service emits, scoped to its service and env. */
  @Post('notebooks/create')
  @RequireScope('admin')
  @ApiOperation({ summary: 'Create a root-cause or cost notebook in Datadog' })
  @ApiCreatedResponse({ type: NotebookCreatedDto })
  @ApiProblems(HTTP_ERRORS.VALIDATION_FAILED, ...DATADOG_FAILURES)
  createNotebook(@Body() body: CreateNotebookDto): Promise<NotebookCreatedDto> {
    return this.integrations.createNotebook(body);
  }

  /** Starts an instance of a Datadog workflow (v2 Workflow Automation) with the given inputs. */
  @Post('workflows/trigger')
  @RequireScope('admin')
  @ApiOperation({ summary: 'Start a Datadog workflow instance' })
  @ApiCreatedResponse({ type: WorkflowTriggeredDto })
  @ApiProblems(HTTP_ERRORS.VALIDATION_FAILED, ...DATADOG_FAILURES)
  triggerWorkflow(@Body() body: TriggerWorkflowDto): Promise<WorkflowTriggeredDto> {
    return this.integrations.triggerWorkflow(body);
  }
}
