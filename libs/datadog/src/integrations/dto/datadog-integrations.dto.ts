import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { ApiDateTime, ApiInteger, IsInteger } from '@app/common';
import {
  NOTEBOOK_TEMPLATES,
  type NotebookTemplate,
  SYNTHETIC_KINDS,
  type SyntheticKind,
} from '../integration-templates';

/** The most bytes the JSON of a workflow's `inputs` may take. */
export const MAX_WORKFLOW_INPUT_BYTES = 16_384;

/** The value, serialised as JSON, takes at most `bytes` bytes. */
function MaxJsonBytes(bytes: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonBytes',
      constraints: [bytes],
      validator: {
        validate: (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8') <= bytes,
        defaultMessage: (args) => `${args?.property ?? 'value'} must take at most ${bytes} bytes as JSON`,
      },
    },
    options,
  );
}

/** `POST /datadog/synthetics/create`: which test, from where, how often. The target is PUBLIC_BASE_URL, never a URL from the request. */
export class CreateSyntheticTestDto {
  /**
   * `health`: GET <PUBLIC_BASE_URL>/health answers 200, JSON `status` = `ok`, under 1 s. `qa`: POST
   * <PUBLIC_BASE_URL>/qa with a fixed question answers 200 with a non-empty `answer` (each run is a paid LLM call).
   */
  @IsIn(SYNTHETIC_KINDS)
  kind!: SyntheticKind;

  /** Datadog locations to run from (managed `aws:us-east-1`, or private `pl:...`); default: the file's. */
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @ArrayUnique()
  @MaxLength(100, { each: true })
  @Matches(/^[a-z0-9][a-z0-9:._-]*$/, { each: true, message: 'each value in locations must be a Datadog location id' })
  locations?: string[];

  /** Seconds between runs, 60 to 604800 (a week); default: 60 for `health`, 3600 for `qa`. */
  @IsOptional()
  @IsInteger()
  @Min(60)
  @Max(604_800)
  tick_every?: number;
}

/** The synthetic test Datadog created. */
export class SyntheticTestCreatedDto {
  /** Datadog's public id of the test. */
  public_id!: string;
  name!: string;
  kind!: SyntheticKind;
  /** The URL the test calls: PUBLIC_BASE_URL + the path. */
  target_url!: string;
  locations!: string[];
  @ApiInteger()
  tick_every!: number;
  /** The monitor Datadog attached to the test, when it said. */
  @ApiInteger()
  monitor_id!: number | null;
  /** The test in the Datadog app. */
  url!: string;
}

/** `POST /datadog/notebooks/create`. */
export class CreateNotebookDto {
  /** `root-cause`: errors, latency, rate limits, circuits, HTTP, quality, health; `cost`: spend, tokens, cost per call, budget, forecast. */
  @IsIn(NOTEBOOK_TEMPLATES)
  template!: NotebookTemplate;

  /** The incident the notebook is about (its id or public id); written in its first cell. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(/^[\w.:-]+$/, { message: 'incident_id may hold only letters, digits, _, ., : and -' })
  incident_id?: string;

  /** The notebook's name (Datadog takes at most 80 characters); default: the template's name, the service, the env and the time. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(80)
  title?: string;

  /** Hours before now the notebook shows, as a fixed window, 1 to 720; default: the file's live span (root-cause 4 h, cost 1 week). */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(720)
  time_range_hours?: number;
}

/** The notebook Datadog created. */
export class NotebookCreatedDto {
  @ApiInteger()
  id!: number;
  name!: string;
  template!: NotebookTemplate;
  /** The notebook in the Datadog app. */
  url!: string;
}

/** `POST /datadog/workflows/trigger`. */
export class TriggerWorkflowDto {
  /** The id of the Datadog workflow (a UUID); it must have an API trigger. */
  @IsUUID('all')
  workflow_id!: string;

  /** The workflow's input parameters, as an object of at most 16 KiB of JSON. */
  @IsOptional()
  @IsObject()
  @MaxJsonBytes(MAX_WORKFLOW_INPUT_BYTES)
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  inputs?: Record<string, unknown>;
}

/** The workflow instance Datadog started. */
export class WorkflowTriggeredDto {
  workflow_id!: string;
  /** The id of the instance Datadog started. */
  instance_id!: string;
}

/** One Datadog product this service uses, whether it is configured, and whether it was found reachable. */
export class DatadogProductDto {
  /** A stable key: `apm_traces`, `dogstatsd_metrics`, `logs`, `llm_observability`, `incidents`, ... */
  product!: string;
  /** Its name in Datadog. */
  name!: string;
  /** How the service reaches it: through the Datadog agent, or the REST API. */
  via!: 'agent' | 'api';
  /** What the service does with it. */
  use!: string;
  /** Whether this service's configuration enables it. */
  configured!: boolean;
  /** true: checked and answered; false: checked and failed; null: unknown, not checked (the reason says why). */
  reachable!: boolean | null;
  /** What was checked and what it said, or why nothing was. */
  reason!: string;
  /** When the check behind `reachable` ran (ISO 8601); null when nothing was checked. */
  @ApiDateTime()
  checked_at!: string | null;
}

/** `GET /datadog/products`. */
export class DatadogProductsDto {
  /** The Datadog site (DD_SITE). */
  site!: string;
  /** The REST API's base URL (DATADOG_API_URL or https://api.<DD_SITE>). */
  api_url!: string;
  products!: DatadogProductDto[];
}
