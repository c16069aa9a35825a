import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TextRedactor } from '@app/common';
import { AppConfig } from '@app/config';
import type { IncidentLink, IncidentRequest, IncidentSeverity } from '@app/datadog';

/** Where an incident request came from (the `source` field and metric tag). */
export const INCIDENT_SOURCES = ['api', 'insight', 'webhook'] as const;
export type IncidentSource = (typeof INCIDENT_SOURCES)[number];

/** An alert as the incident manager takes it, from any source. Free text is redacted by the builder. */
export interface IncidentAlert {
  source: IncidentSource;
  monitorName: string;
  monitorId?: number;
  /** The alert scope (`service:x,env:y`); empty for a monitor that is not grouped. */
  group: string;
  message: string;
  runbookMarkdown: string;
  severity: IncidentSeverity;
  tags: readonly string[];
}

/** The incident content and its dedupe identity. */
export interface BuiltIncident {
  request: IncidentRequest;
  title: string;
  dedupeKey: string;
  monitor: string;
  group: string;
}

/** Bounds of what goes into Datadog. */
export const CONTENT_LIMITS = {
  monitorName: 150,
  /** The group as the title shows it (the whole group, up to `field`, is in `cp_group`). */
  titleGroup: 80,
  titleMessage: 100,
  /**
   * The whole title. Datadog declares no bound for it (`IncidentCreateAttributes.title` is a plain required string in
   * the v2 API schema and in @datadog/datadog-api-client's models); this one keeps it a line an incident list shows,
   * and no longer than the 253 characters the titles always could be.
   */
  title: 250,
  field: 500,
  runbook: 20_000,
  message: 4000,
  dedupeKey: 700,
} as const;

/** The group shown and keyed when an alert has no scope. */
const NO_GROUP = '*';

/** Cuts `text` to `max` characters, with an ellipsis when cut; never splits a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/**
 * A Datadog notification handle: `@` at the start of a token (not inside a word, an address, a path or a URL), a
 * name of letters, digits and `_ + -` in dot-separated parts (`@slack-llm-oncall`, `@pagerduty-llm`,
 * `@webhook-llm-control-plane-incidents`, `@team-x`), and for an e-mail handle `@<address>`
 * (`@jane.doe@example.com`); a sentence's full stop after it is not part of it. Each quantifier is bounded by a
 * character the next one cannot start with, so a run of name characters is read once.
 */
const HANDLE =
  /(?<![\w.@/:+-])@[A-Za-z0-9_][\w+-]*(?:\.[\w+-]+)*(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?(?![\w@/]|\.[\w/])[ \t]*/g;
/** Markdown code: a fenced block (unclosed: to the end, as markdown renders it) or an inline span on one line. */
const CODE = /```[\s\S]*?(?:```|$)|`[^`\n]*`/g;
/** Where a handle was, while brackets it leaves empty are found (a private-use character). */
const GONE = '\uE000';
const EMPTIED = /\[[ \t]*\uE000[ \t\uE000]*\]|\([ \t]*\uE000[ \t\uE000]*\)|\uE000/g;

/** Prose (not code) without its handles, and without the brackets that held only handles (`[@slack-x]`). */
function stripHandlesFromProse(prose: string): string {
  if (!prose.includes('@')) return prose;
  if (prose.includes(GONE)) return prose.replace(HANDLE, '');
  return prose.replace(HANDLE, GONE).replace(EMPTIED, '');
}

/**
 * `text` without Datadog notification handles (`@slack-…`, `@pagerduty-…`, `@webhook-…`, `@user@example.com`): a
 * monitor's `$EVENT_MSG` carries the handles it notifies, and in an incident's title or timeline they are noise or
 * notify again. An `@` inside a word or an address (`jane@example.com`: plain text, left to the PII redactor), in a
 * path (`@types/node`) or in markdown code (`` `@Injectable()` ``, fenced blocks) is kept.
 */
export function stripNotificationHandles(text: string): string {
  if (!text.includes('@')) return text;
  let out = '';
  let last = 0;
  for (const code of text.matchAll(CODE)) {
    out += stripHandlesFromProse(text.slice(last, code.index)) + code[0];
    last = code.index + code[0].length;
  }
  return out + stripHandlesFromProse(text.slice(last));
}

/** The idempotency key of an outbox row: stored on the incident so that a retry finds what an attempt created. */
export function idempotencyKeyOf(outboxId: string): string {
  return `cp-${outboxId}`;
}

/** The dedupe identity: the monitor (its id, else its name) and the group. */
export function dedupeKeyOf(monitorName: string, monitorId: number | undefined, group: string): string {
  const monitor = monitorId !== undefined ? `id:${monitorId}` : `name:${oneLine(monitorName).toLowerCase()}`;
  return clip(`${monitor}|group:${group || NO_GROUP}`, CONTENT_LIMITS.dedupeKey);
}

/**
 * What the dedupe key holds of a name or group: the text as shown when it is the original, else the shown text and a
 * digest of the original. Redaction and clipping make distinct values alike (`host:10.0.0.1` and `host:10.0.0.2`
 * both show as `host:[REDACTED:IP_ADDRESS]`): keyed on what is shown, the groups of a multi-alert monitor that
 * differ only by an address, an e-mail or past the bound were one incident, and the first group's recovery resolved
 * it while the others still fired. The digest keeps them apart without storing the original (a key is unchanged for
 * every value redaction leaves as it is).
 */
export function keyPart(shown: string, original: string): string {
  if (shown === original) return shown;
  return `${shown}#${createHash('sha256').update(original, 'utf8').digest('hex').slice(0, 16)}`;
}

/** The name of the provisioned dashboard (datadog/dashboards), searched for when its id is not configured. */
export function dashboardName(service: string, env: string): string {
  return `LLM reliability (${service}, ${env})`;
}

/**
 * The incident title: the monitor, its group in braces when it has one (as Datadog writes a scope: the incidents of
 * a multi-alert monitor differ by it), then " - " and the head of the alert message, within `CONTENT_LIMITS.title`
 * (the monitor and the group come first: the message is cut, or left out, to fit).
 */
export function incidentTitle(monitor: string, group: string, message: string): string {
  const scope = group && group !== NO_GROUP ? ` {${clip(group, CONTENT_LIMITS.titleGroup)}}` : '';
  const head = `${clip(monitor, CONTENT_LIMITS.monitorName)}${scope}`;
  const room = Math.min(CONTENT_LIMITS.titleMessage, CONTENT_LIMITS.title - head.length - 3);
  const headline = room >= 10 ? clip(oneLine(message), room) : '';
  return headline ? `${head} - ${headline}` : head;
}

/**
 * Builds what Datadog receives for an alert: the title (`incidentTitle`: monitor name, group, the head of the alert
 * message), the severity, customer impact (SEV-1 and SEV-2, with a scope naming the service and env), the fields
 * (service, env, monitor, group, source), the runbook as the first timeline cell, links (dashboard, logs, traces,
 * monitor) and the notification handles (`DATADOG_NOTIFY_HANDLES` only: the handles a monitor's message carries are
 * taken out of it, `stripNotificationHandles`). Every free text (message, runbook, monitor name, group, tags) goes through
 * the `TextRedactor` first: alert messages can quote prompts and PII.
 */
@Injectable()
export class IncidentContentBuilder {
  constructor(
    private readonly config: AppConfig,
    private readonly redactor: TextRedactor,
  ) {}

  private clean(text: string, max: number): string {
    // Redact a bounded head (a little past the bound so that an item crossing it is seen whole), then cut.
    return clip(this.redactor.redact(text.slice(0, max + 200)), max);
  }

  /**
   * The monitor name and group as shown (redacted, bounded) and the dedupe key they make: of the originals (see
   * `keyPart`), so that values alike once redacted stay distinct incidents.
   */
  identity(
    monitorName: string,
    monitorId: number | undefined,
    group: string,
  ): { monitor: string; group: string; dedupeKey: string } {
    const monitor = oneLine(this.clean(monitorName, CONTENT_LIMITS.monitorName)) || 'Unnamed monitor';
    const shownGroup = oneLine(this.clean(group, CONTENT_LIMITS.field)) || NO_GROUP;
    const keyedMonitor = monitorId === undefined ? keyPart(monitor, oneLine(monitorName) || monitor) : monitor;
    const keyedGroup = keyPart(shownGroup, oneLine(group) || NO_GROUP);
    return { monitor, group: shownGroup, dedupeKey: dedupeKeyOf(keyedMonitor, monitorId, keyedGroup) };
  }

  build(alert: IncidentAlert, outboxId: string): BuiltIncident {
    const { name: service, env } = this.config.service;
    const { monitor, group, dedupeKey } = this.identity(alert.monitorName, alert.monitorId, alert.group);
    // Handles first: redaction would make `@jane@example.com` an `@[REDACTED:EMAIL]` no longer seen as one.
    const message = this.clean(stripNotificationHandles(alert.message), CONTENT_LIMITS.message);
    const title = incidentTitle(monitor, group, message);
    const customerImpacted = alert.severity === 'SEV-1' || alert.severity === 'SEV-2';
    const runbook = this.clean(alert.runbookMarkdown, CONTENT_LIMITS.runbook);
    const request: IncidentRequest = {
      idempotencyKey: idempotencyKeyOf(outboxId),
      title,
      severity: alert.severity,
      customerImpacted,
      ...(customerImpacted
        ? {
            customerImpactScope: `Users of ${service} (${env}): LLM answers may fail, be slow or be degraded (${alert.severity}).`,
          }
        : {}),
      fields: {
        service,
        env,
        monitor,
        group,
        source: alert.source,
        alert_count: '1',
        ...(alert.monitorId !== undefined ? { monitor_id: String(alert.monitorId) } : {}),
        ...(alert.tags.length > 0
          ? { tags: this.clean(alert.tags.map(oneLine).join(', '), CONTENT_LIMITS.field) }
          : {}),
      },
      runbookMarkdown: this.timelineCell(runbook, message, alert.source),
      links: this.links(alert.monitorId),
      notificationHandles: [...this.config.datadog.notifyHandles],
    };
    return { request, title, dedupeKey, monitor, group };
  }

  /** The first timeline cell: the runbook, then the alert message that opened the incident. */
  private timelineCell(runbook: string, message: string, source: IncidentSource): string {
    const alert = message.trim() ? `\n\n---\n\n**Alert** (${source}):\n\n${message.trim()}` : '';
    return `${runbook.trim()}${alert}`;
  }

  /** Dashboard, logs, traces and (with an id) monitor links into the Datadog web app. */
  links(monitorId: number | undefined): IncidentLink[] {
    const { appUrl, dashboardId } = this.config.datadog;
    const { name: service, env } = this.config.service;
    const scope = encodeURIComponent(`service:${service} env:${env}`);
    const links: IncidentLink[] = [
      {
        title: 'Dashboard',
        url: dashboardId
          ? `${appUrl}/dashboard/${encodeURIComponent(dashboardId)}`
          : `${appUrl}/dashboard/lists?q=${encodeURIComponent(dashboardName(service, env))}`,
      },
      { title: 'Logs', url: `${appUrl}/logs?query=${scope}` },
      { title: 'Traces', url: `${appUrl}/apm/traces?query=${scope}` },
    ];
    if (monitorId !== undefined) links.push({ title: 'Monitor', url: `${appUrl}/monitors/${monitorId}` });
    return links;
  }
}
