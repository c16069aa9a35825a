import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/**
 * `POST /incidents/webhook`: a Datadog monitor notification, as the custom payload of the Webhooks integration
 * sends it (docs/incidents.md has the template). Every value is a string, as Datadog substitutes `$VARIABLES`
 * inside quotes.
 */
export class DatadogWebhookDto {
  /** `$ID`: the event's id. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  id?: string;
  /** `$ALERT_ID`: the monitor's id (digits): the dedupe identity and the monitor link. */
  @IsOptional()
  @IsString()
  @Matches(/^\d{0,19}$/, { message: 'alert_id must be the monitor id (digits)' })
  alert_id?: string;
  /** `$ALERT_TITLE`: `[P1] [Triggered on {scope}] <monitor name>`; the monitor name is taken from it. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  title!: string;
  /** `$ALERT_TRANSITION`: Triggered, Re-Triggered, Warn, Re-Warn, No Data, Re-No Data, Renotify, Recovered. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  transition!: string;
  /** `$ALERT_PRIORITY`: P1..P5 (→ SEV-1..SEV-5); empty when the monitor has none. */
  @IsOptional()
  @IsString()
  @MaxLength(10)
  priority?: string;
  /** `$ALERT_SCOPE`: the group that alerted (`service:a, env:b`); empty for a monitor that is not grouped. */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  scope?: string;
  /** `$EVENT_MSG`: the notification's text (redacted before it reaches the incident). */
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  message?: string;
  /** `$TAGS`: comma-separated; `runbook:<key>` picks the runbook, `severity:sev-N` the severity without a priority. */
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  tags?: string;
  /** `$LINK`: the event in Datadog. */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  link?: string;
  /** `$DATE`: when it happened (epoch ms). */
  @IsOptional()
  @IsString()
  @MaxLength(40)
  date?: string;
  /** `$AGGREG_KEY`: Datadog's aggregation key of related events. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  aggregate_key?: string;
}
