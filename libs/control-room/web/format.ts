/** Pure formatting and classification for the control room's panels (unit-tested in format.spec.ts). */

export type HealthStatus = 'healthy' | 'degraded' | 'critical' | 'no_data';

/** The five components of the health score, in the order the API and docs/health-score.md list them. */
export const HEALTH_COMPONENTS = ['performance', 'reliability', 'cost', 'quality', 'security'] as const;
export type HealthComponent = (typeof HEALTH_COMPONENTS)[number];

/**
 * The colour of a status, each with at least 4.5:1 contrast on the page's white panels (WCAG AA for text), and
 * always shown with its word: colour is never the only sign.
 */
export const STATUS_COLOURS: Readonly<Record<HealthStatus, string>> = {
  healthy: '#1a7f37',
  degraded: '#9a6700',
  critical: '#c62828',
  no_data: '#57606a',
};

/** The status of a 0–100 score by the API's thresholds: healthy ≥ 80, degraded ≥ 60, else critical. */
export function statusOfScore(score: number | null | undefined): HealthStatus {
  if (score === null || score === undefined || !Number.isFinite(score)) return 'no_data';
  if (score >= 80) return 'healthy';
  if (score >= 60) return 'degraded';
  return 'critical';
}

/** A status the API sent, or the one its score implies when the value is not one of the four. */
export function normaliseStatus(status: unknown, score?: number | null): HealthStatus {
  return status === 'healthy' || status === 'degraded' || status === 'critical' || status === 'no_data'
    ? status
    : statusOfScore(score);
}

export function statusColour(status: HealthStatus): string {
  return STATUS_COLOURS[status];
}

/** `healthy`, `degraded`, `critical`, `no data`. */
export function statusLabel(status: HealthStatus): string {
  return status === 'no_data' ? 'no data' : status;
}

const DASH = '—';

const isNumber = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** A score to one decimal (`93.9`), or a dash. */
export function formatScore(score: number | null | undefined): string {
  return isNumber(score) ? score.toFixed(1) : DASH;
}

/** A whole count with thousands separators (`12,345`). */
export function formatCount(n: number | null | undefined): string {
  return isNumber(n) ? Math.round(n).toLocaleString('en-US') : DASH;
}

/** A 0..1 rate as a percentage: one decimal, two under 1 % (`0.25 %`), `0 %` for zero. */
export function formatRate(rate: number | null | undefined): string {
  if (!isNumber(rate)) return DASH;
  const pct = rate * 100;
  if (pct === 0) return '0 %';
  return `${pct < 1 ? pct.toFixed(2) : pct.toFixed(1)} %`;
}

/** A percentage already in 0..100 (`82 %`). */
export function formatPercent(pct: number | null | undefined): string {
  return isNumber(pct) ? `${pct < 10 ? pct.toFixed(1) : Math.round(pct).toString()} %` : DASH;
}

/** Milliseconds, as ms under a second and s above (`350 ms`, `1.25 s`). */
export function formatMs(ms: number | null | undefined): string {
  if (!isNumber(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/**
 * US dollars with as many decimals as a small amount needs: `$12.35`, `$0.0042`, `$0.000012`; `$0.00` for zero.
 */
export function formatUsd(usd: number | null | undefined): string {
  if (!isNumber(usd)) return DASH;
  const abs = Math.abs(usd);
  if (abs === 0) return '$0.00';
  if (abs >= 1)
    return `${usd < 0 ? '-' : ''}$${abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const decimals = Math.min(8, Math.max(2, 1 - Math.floor(Math.log10(abs))));
  return `${usd < 0 ? '-' : ''}$${abs.toFixed(decimals)}`;
}

/**
 * A window's length as the API reports it (`window.durationMs`, set by HEALTH_WINDOW_SHORT_MS and
 * HEALTH_WINDOW_LONG_MS), for "the last ...": `hour`, `5 minutes`, `10 seconds`, `90 minutes`; null without one.
 */
export function windowSpan(durationMs: number | null | undefined): string | null {
  if (!isNumber(durationMs) || durationMs <= 0) return null;
  const seconds = durationMs / 1000;
  const [n, unit] =
    seconds % 3600 === 0
      ? [seconds / 3600, 'hour']
      : seconds % 60 === 0
        ? [seconds / 60, 'minute']
        : [seconds, 'second'];
  const count = Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1);
  return n === 1 ? unit : `${count} ${unit}s`;
}

/** A 0..1 confidence as a whole percentage (`85 %`). */
export function formatConfidence(c: number | null | undefined): string {
  return isNumber(c) ? `${Math.round(c * 100)} %` : DASH;
}

/** Spend against a budget: the share used, clamped for a meter (0..1), and whether it is over. */
export function budgetUse(
  spent: number | null | undefined,
  budget: number | null | undefined,
): { share: number | null; over: boolean } {
  if (!isNumber(spent) || !isNumber(budget) || budget <= 0) return { share: null, over: false };
  const share = spent / budget;
  return { share: Math.min(1, Math.max(0, share)), over: share > 1 };
}

/** How long ago an ISO time was, coarsely (`12 s ago`, `3 min ago`, `2 h ago`), from `now` (epoch ms). */
export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return DASH;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** The order recommendations are listed in: priority first (critical to low), then confidence, highest first. */
const PRIORITY_RANK: Readonly<Record<string, number>> = { critical: 0, high: 1, medium: 2, low: 3 };

export function byPriority<T extends { priority?: string; confidence?: number | null }>(items: readonly T[]): T[] {
  return [...items].sort(
    (a, b) =>
      (PRIORITY_RANK[a.priority ?? ''] ?? 9) - (PRIORITY_RANK[b.priority ?? ''] ?? 9) ||
      (b.confidence ?? 0) - (a.confidence ?? 0),
  );
}

/** The router's decisions per model as shares of the total, largest first. */
export function decisionShares(
  byModel: readonly { model: string; count: number }[],
): { model: string; count: number; share: number }[] {
  const total = byModel.reduce((s, m) => s + (isNumber(m.count) ? m.count : 0), 0);
  return [...byModel]
    .sort((a, b) => b.count - a.count || a.model.localeCompare(b.model))
    .map((m) => ({ model: m.model, count: m.count, share: total > 0 ? m.count / total : 0 }));
}

/** An incident still open, from its outbox rows (`GET /incidents`): the newest row's view of it. */
export interface OpenIncident {
  ref: string;
  title: string;
  severity: string | null;
  /** The outbox state of its newest row (`pending` while its create or an update waits). */
  state: string;
  alertCount: number | null;
  /** When its create row was written, when that row is among those read. */
  openedAt: string | null;
  /** When its newest row was written: its last alert. */
  lastAt: string;
}

interface IncidentRow {
  outbox_id: string;
  kind: string;
  incident_ref?: string | null;
  state: string;
  title?: string | null;
  severity?: string | null;
  incident_state?: string | null;
  alert_count?: number | null;
  created_at: string;
}

/**
 * The open incidents among outbox rows listed newest first, one per incident (its create and its updates share
 * `incident_ref`), most recently alerted first. An incident is open when the API says so (`incident_state`), or, when
 * it does not say, while its row still waits to go out.
 */
export function openIncidents(rows: readonly IncidentRow[]): OpenIncident[] {
  const byRef = new Map<string, OpenIncident>();
  for (const row of rows) {
    const open =
      row.incident_state === 'open' ||
      ((row.incident_state ?? null) === null && (row.state === 'pending' || row.state === 'delivering'));
    if (!open) continue;
    const ref = row.incident_ref || row.outbox_id;
    let incident = byRef.get(ref);
    if (!incident) {
      incident = {
        ref,
        title: row.title || ref,
        severity: row.severity ?? null,
        state: row.state,
        alertCount: row.alert_count ?? null,
        openedAt: null,
        lastAt: row.created_at,
      };
      byRef.set(ref, incident);
    }
    if (row.kind === 'create') incident.openedAt = row.created_at;
  }
  return [...byRef.values()];
}
