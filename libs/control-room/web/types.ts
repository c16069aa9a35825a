/** The parts of the API's answers the page reads (openapi/control-plane.json has the full schemas). */
import type { HealthComponent } from './format';

export type Components = Partial<Record<HealthComponent, number | null>>;

export interface HealthScore {
  score: number | null;
  status: string;
  components: Components | null;
  signals: {
    requests?: number | null;
    p50LatencyMs?: number | null;
    p95LatencyMs?: number | null;
    meanLatencyMs?: number | null;
    errorRate?: number | null;
    meanQuality?: number | null;
    safetyBlockRate?: number | null;
    retriesPerRequest?: number | null;
  } | null;
  window: { name: string; from: string; to: string; durationMs: number } | null;
  models?: { model: string; score: number | null; status: string; signals?: HealthScore['signals'] }[] | null;
}

export interface CostForecast {
  generatedAt: string;
  method: string;
  servedBy: 'none' | 'ml' | 'baseline';
  reason?: string | null;
  confidence: number | null;
  model?: { trainedAt?: string; backend?: string; bestBaseline?: string; dataSource?: string } | null;
  hourly: { hour: string; costUsd: number; lowerUsd: number; upperUsd: number }[];
  totalUsd: number | null;
  totalLowerUsd: number | null;
  totalUpperUsd: number | null;
  budget?: {
    dailyBudgetUsd: number | null;
    spentTodayUsd: number | null;
    projectedTodayPct?: number | null;
    forecastUtilizationPct?: number | null;
    risk?: string | null;
    policy?: string | null;
  } | null;
}

export interface Recommendation {
  title: string;
  category: string;
  priority: string;
  confidence: number | null;
  description?: string;
  evidence?: { summary?: string; requests?: number } | null;
  expected_impact?: string;
  model?: string | null;
}

export interface Insights {
  generated_at: string;
  health_summary?: { overall_health_score: number | null; status: string } | null;
  recommendations: Recommendation[];
  predictive_insights?: { title: string; description?: string; confidence?: number | null }[];
}

export interface IncidentsStatus {
  enabled: boolean;
  api_configured: boolean;
  message?: string;
  outbox: {
    pending: number;
    delivering: number;
    delivered: number;
    failed: number;
    oldest_pending_age_ms: number | null;
  };
  /** The incidents open now, however many outbox rows they have (the `incidents.open` gauge). */
  open_incidents?: { count: number; oldest_age_ms: number | null };
  last_errors?: { outbox_id: string; reason: string; attempts: number }[];
}

export interface OutboxEntry {
  outbox_id: string;
  kind: string;
  /** The outbox id of the incident's create row: an update (a re-alert, a recovery) names its incident by it. */
  incident_ref: string;
  state: string;
  attempts: number;
  title?: string | null;
  severity?: string | null;
  incident_state?: string | null;
  alert_count?: number | null;
  created_at: string;
  url?: string | null;
}

export interface IncidentList {
  count: number;
  entries: OutboxEntry[];
  next_cursor: string | null;
}

/** `GET /llm/router` (being built: 404 until it exists). */
export interface RouterState {
  mode: 'off' | 'rules' | 'learned';
  candidates: string[];
  predictor: { loaded: boolean; trainedOn: number; reason?: string };
  decisions: {
    windowS: number;
    total: number;
    byModel: { model: string; count: number; byReason: Record<string, number> }[];
  };
}

/** The configuration the server puts in the page's `<meta name="control-room-config">`. */
export interface PageConfig {
  service: string;
  env: string;
  version: string;
  rum: { applicationId: string; clientToken: string; site: string } | null;
}
