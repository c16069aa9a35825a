import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsInteger } from '@app/common';
import { INCIDENT_SEVERITIES, type IncidentSeverity } from '@app/datadog';

/** The most tags or recommendations taken, and the longest of each. */
export const MAX_TAGS = 50;
export const MAX_TAG_CHARS = 200;
export const MAX_RECOMMENDATIONS = 20;

/** `POST /incidents/create`: an incident for a monitor alert (the origin's shape). */
export class CreateIncidentDto {
  /** The monitor's name: the incident title starts with it; with `monitor_id`, the dedupe identity. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  monitor_name!: string;
  /** What the alert says; its first 100 characters complete the title. Redacted before it reaches Datadog. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(10_000)
  alert_message!: string;
  /** The runbook in markdown: the incident's first timeline cell. Redacted before it reaches Datadog. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(20_000)
  runbook!: string;
  /** SEV-1 (most severe) to SEV-5; SEV-1 and SEV-2 mark customers impacted. Default SEV-2. */
  @IsOptional()
  @IsIn(INCIDENT_SEVERITIES)
  severity?: IncidentSeverity = 'SEV-2';
  /** The Datadog monitor's id: the dedupe identity (else its name) and the monitor link. */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  monitor_id?: number;
  /** Tags shown on the incident (`key:value`). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_TAGS)
  @IsString({ each: true })
  @MaxLength(MAX_TAG_CHARS, { each: true })
  tags?: string[];
}

/** `POST /incidents/create-from-insight`: an incident for an ML insight (`POST /insights`), with a runbook built from it. */
export class CreateIncidentFromInsightDto {
  /** The insight's type (`cost_anomaly`, `quality_drift`...): the monitor is named `ML Insight: <type>`. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  @Matches(/^[\w .:-]+$/, { message: 'insight_type may hold letters, digits, spaces and _ . : - only' })
  insight_type!: string;
  /** What failed, in a line: the title's message and the runbook's "What failed". */
  @IsString()
  @IsNotEmpty()
  @MaxLength(300)
  title!: string;
  /** Why: the runbook's "Why". */
  @IsString()
  @IsNotEmpty()
  @MaxLength(5000)
  description!: string;
  /** What to do, in order: the runbook's numbered "Next". */
  @IsArray()
  @ArrayMaxSize(MAX_RECOMMENDATIONS)
  @IsString({ each: true })
  @MaxLength(1000, { each: true })
  recommendations!: string[];
  /** SEV-1 to SEV-5, default SEV-3. */
  @IsOptional()
  @IsIn(INCIDENT_SEVERITIES)
  severity?: IncidentSeverity = 'SEV-3';
  /** The metric the insight is about (`llm.latency.ms`): the dedupe group. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  metric?: string;
}
