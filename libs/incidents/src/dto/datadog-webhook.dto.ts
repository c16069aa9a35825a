import { headOf } from '@app/common';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/**
 * A `$VARIABLE` Datadog had no value for: it substitutes the text `null` (a monitor without a priority, a scope, a
 * message; an event that is not a monitor alert) or nothing. Either is the field left out.
 */
export function unsetToUndefined({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  return text === '' || text.toLowerCase() === 'null' ? undefined : value;
}

/**
 * Datadog's value, unset ones left out (see `unsetToUndefined`), a longer text cut to `max` characters: Datadog
 * retries a webhook only on a 5xx, so a 400 for a long message or a long tag list would lose the alert. What is kept
 * is bounded again where it is used (the message to 4,000 characters, the tags to 100).
 */
function datadogText(max: number, atComma = false) {
  return Transform(({ value }: { value: unknown }) => {
    const kept = unsetToUndefined({ value });
    if (typeof kept !== 'string' || kept.length <= max) return kept;
    const cut = headOf(kept, max);
    // A list is cut after its last whole item, so that no half tag (`runbook:llm-err`) is taken for a tag.
    const comma = atComma ? cut.lastIndexOf(',') : -1;
    return comma > 0 ? cut.slice(0, comma) : cut;
  });
}

/**
 * `POST /incidents/webhook`: a Datadog monitor notification, as the custom payload of the Webhooks integration
 * sends it (docs/incidents.md has the template). Every value is a string, as Datadog substitutes `$VARIABLES`
 * inside quotes; `null` or empty is a variable Datadog had no value for (the field left out); a text longer than
 * its bound is cut, never refused. Besides the fields used, the other variables of Datadog's own webhook payload
 * are taken (and not used), so that a payload that carries them is not refused.
 */
export class DatadogWebhookDto {
  /** `$ID`: the event's id. */
  @IsOptional()
  @Transform(unsetToUndefined)
  @IsString()
  @MaxLength(100)
  id?: string;
  /** `$ALERT_ID`: the monitor's id (digits): the dedupe identity and the monitor link. */
  @IsOptional()
  @Transform(unsetToUndefined)
  @IsString()
  @Matches(/^\d{0,19}$/, { message: 'alert_id must be the monitor id (digits)' })
  alert_id?: string;
  /** `$ALERT_TITLE`: `[P1] [Triggered on {scope}] <monitor name>`; the monitor name is taken from it. */
  @datadogText(1000)
  @IsString()
  @IsNotEmpty()
  title!: string;
  /** `$ALERT_TRANSITION`: Triggered, Re-Triggered, Warn, Re-Warn, No Data, Re-No Data, Renotify, Recovered. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  transition!: string;
  /** `$ALERT_PRIORITY`: P1..P5 (→ SEV-1..SEV-5); empty or `null` when the monitor has none. */
  @IsOptional()
  @datadogText(10)
  @IsString()
  priority?: string;
  /** `$ALERT_SCOPE`: the group that alerted (`service:a, env:b`); empty for a monitor that is not grouped. */
  @IsOptional()
  @datadogText(2000, true)
  @IsString()
  scope?: string;
  /** `$EVENT_MSG`: the notification's text (redacted before it reaches the incident; cut to 20,000 characters). */
  @IsOptional()
  @datadogText(20_000)
  @IsString()
  message?: string;
  /** `$TAGS`: comma-separated; `runbook:<key>` picks the runbook, `severity:sev-N` the severity without a priority. */
  @IsOptional()
  @datadogText(4000, true)
  @IsString()
  tags?: string;
  /** `$LINK`: the event in Datadog. */
  @IsOptional()
  @datadogText(2000)
  @IsString()
  link?: string;
  /** `$DATE`: when it happened (epoch ms). */
  @IsOptional()
  @Transform(unsetToUndefined)
  @IsString()
  @MaxLength(40)
  date?: string;
  /** `$AGGREG_KEY`: Datadog's aggregation key of related events. */
  @IsOptional()
  @datadogText(200)
  @IsString()
  aggregate_key?: string;

  /** `$ALERT_CYCLE_KEY`: links the events of one alert, from its trigger to its recovery (taken, not used). */
  @IsOptional()
  @datadogText(200)
  @IsString()
  alert_cycle_key?: string;
  /** `$ALERT_STATUS`: a summary of the alert's state (`system.load.1 over host:a was > 0 ...`). */
  @IsOptional()
  @datadogText(2000)
  @IsString()
  alert_status?: string;
  /** `$ALERT_QUERY`: the monitor's query. */
  @IsOptional()
  @datadogText(4000)
  @IsString()
  alert_query?: string;
  /** `$ALERT_TYPE`: error, warning, success, info. */
  @IsOptional()
  @datadogText(50)
  @IsString()
  alert_type?: string;
  /** `$ALERT_METRIC`: the metric of a metric alert. */
  @IsOptional()
  @datadogText(500)
  @IsString()
  alert_metric?: string;
  /** `$EVENT_TITLE`: the event's title. */
  @IsOptional()
  @datadogText(1000)
  @IsString()
  event_title?: string;
  /** `$EVENT_TYPE`: the event's type (`query_alert_monitor`, ...). */
  @IsOptional()
  @datadogText(100)
  @IsString()
  event_type?: string;
  /** `$HOSTNAME`: the host of the event, if any. */
  @IsOptional()
  @datadogText(500)
  @IsString()
  hostname?: string;
  /** `$LAST_UPDATED`: when the event was last updated (epoch ms). */
  @IsOptional()
  @datadogText(40)
  @IsString()
  last_updated?: string;
  /** `$ORG_ID`: the Datadog organization's id. */
  @IsOptional()
  @datadogText(100)
  @IsString()
  org_id?: string;
  /** `$ORG_NAME`: the Datadog organization's name. */
  @IsOptional()
  @datadogText(200)
  @IsString()
  org_name?: string;
}
