import type { IncidentSeverity } from '@app/datadog';

/**
 * What the incident manager does for each `$ALERT_TRANSITION` of a Datadog monitor notification:
 * `open` (or update the open incident of the monitor and group within the dedupe window), `continue` (a
 * re-notification of an alert still firing: it updates the open incident whatever its age, or opens one),
 * `update-only` (a warning: it updates an open incident, never opens one), `resolve`, or `ignore`.
 */
export type TransitionAction = 'open' | 'continue' | 'update-only' | 'resolve' | 'ignore';

/** `$ALERT_TRANSITION` values and the bounded `transition` metric tag of each. */
const TRANSITIONS: Readonly<Record<string, { tag: string; action: TransitionAction }>> = {
  triggered: { tag: 'triggered', action: 'open' },
  're-triggered': { tag: 're_triggered', action: 'continue' },
  'no data': { tag: 'no_data', action: 'open' },
  're-no data': { tag: 're_no_data', action: 'continue' },
  renotify: { tag: 'renotify', action: 'continue' },
  warn: { tag: 'warn', action: 'update-only' },
  're-warn': { tag: 're_warn', action: 'update-only' },
  recovered: { tag: 'recovered', action: 'resolve' },
};

/** The action and metric tag of a transition (anything else: `other`, ignored). */
export function transitionOf(value: string): { tag: string; action: TransitionAction } {
  const key = value.trim().toLowerCase().replace(/\s+/g, ' ');
  return TRANSITIONS[key] ?? { tag: 'other', action: 'ignore' };
}

/** `$TAGS` (`a, b:c, runbook:x`) as a list. */
export function parseTags(tags: string | undefined): string[] {
  if (!tags) return [];
  return tags
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .slice(0, 100);
}

/** The value of the first `name:value` tag. */
export function tagValue(tags: readonly string[], name: string): string | undefined {
  const prefix = `${name}:`;
  const tag = tags.find((t) => t.toLowerCase().startsWith(prefix));
  return tag === undefined ? undefined : tag.slice(prefix.length).trim();
}

/**
 * The severity of a notification: `$ALERT_PRIORITY` P1..P5 → SEV-1..SEV-5, else a `severity:sev-N` tag, else SEV-3.
 */
export function severityOf(priority: string | undefined, tags: readonly string[]): IncidentSeverity {
  const p = /^p([1-5])$/i.exec((priority ?? '').trim());
  if (p) return `SEV-${p[1]}` as IncidentSeverity;
  const tag = /^sev-?([1-5])$/i.exec(tagValue(tags, 'severity') ?? '');
  if (tag) return `SEV-${tag[1]}` as IncidentSeverity;
  return 'SEV-3';
}

/**
 * The monitor's name from `$ALERT_TITLE`, which Datadog prefixes with the priority and the transition and scope
 * (`[P1] [Triggered on {service:a,env:b}] LLM error ratio above 5%`): the leading bracketed parts go.
 */
export function monitorNameOf(alertTitle: string): string {
  let name = alertTitle.trim();
  for (let i = 0; i < 5; i++) {
    const stripped = name.replace(/^\[[^\]]*\]\s*/, '');
    if (stripped === name) break;
    name = stripped;
  }
  return name || alertTitle.trim();
}

/**
 * `$EVENT_MSG` without Datadog's `%%%` markdown fences. The closing fence is matched from the first blank of a run
 * only (the lookbehind): `/\s*%%%\s*$/` read a run of blanks again from each of its characters, quadratic (a
 * 20,000-character message of spaces, the most the DTO takes, 0.35 s).
 */
export function messageOf(eventMsg: string | undefined): string {
  return (eventMsg ?? '')
    .replace(/^\s*%%%\s*/, '')
    .replace(/(?<!\s)\s*%%%\s*$/, '')
    .trim();
}

/** The group of an alert: `$ALERT_SCOPE` normalised (sorted, no spaces), empty for a monitor that is not grouped. */
export function groupOf(scope: string | undefined): string {
  const parts = parseTags(scope).map((t) => t.replace(/\s+/g, ''));
  return parts.length === 0 || (parts.length === 1 && parts[0] === '*') ? '' : [...new Set(parts)].sort().join(',');
}

/** How far past our clock a `$DATE` may be and still be taken (clocks differ; ours may have been stepped back). */
export const EVENT_TIME_MAX_AHEAD_MS = 24 * 3_600_000;
/** Before this (2001-09-09, the first 10-digit second), a `$DATE` is no time Datadog sends. */
const EVENT_TIME_MIN_MS = 1_000_000_000_000;

/**
 * `$DATE` as epoch ms: Datadog sends milliseconds (`1759343824000`); a value of seconds (10 digits) is taken as
 * seconds. Anything else, or a time no notification can have (before 2001, or more than a day past `now`: a value in
 * microseconds, a template's placeholder), is undefined: the notification is then never judged out of order. Taken,
 * a time in the far future would have made every later notification of the other kind for the monitor and group
 * "older", so ignored: one Recovered with a `$DATE` in microseconds silenced the monitor's alerts.
 */
export function eventTimeOf(date: string | undefined, now: number = Date.now()): number | undefined {
  const text = (date ?? '').trim();
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  const ms = value < 100_000_000_000 ? value * 1000 : value;
  return ms >= EVENT_TIME_MIN_MS && ms <= now + EVENT_TIME_MAX_AHEAD_MS ? ms : undefined;
}
