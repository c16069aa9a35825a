/** The control room page (docs/control-room.md): sign-in, live panels, the drill. */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { Api, ApiError, explainRefusal, keyProblem } from './api';
import { LineChart } from './charts';
import { byId, h, setPanelState, setText } from './dom';
import { describeDrill, Drill, DRILL_FAULTS } from './drill';
import {
  budgetUse,
  byPriority,
  decisionShares,
  formatAge,
  formatConfidence,
  formatCount,
  formatMs,
  formatPercent,
  formatRate,
  formatScore,
  formatUsd,
  HEALTH_COMPONENTS,
  normaliseStatus,
  type OpenIncident,
  openIncidents,
  statusColour,
  statusLabel,
  windowSpan,
} from './format';
import type {
  CostForecast,
  HealthScore,
  IncidentList,
  IncidentsStatus,
  Insights,
  OutboxEntry,
  PageConfig,
  RouterState,
} from './types';

/** How often the panels refresh; the slower reports (forecast, insights) every SLOW_EVERY refreshes. */
const REFRESH_MS = 5000;
const SLOW_EVERY = 3;
/** Samples kept for the live charts (10 minutes at one per refresh). */
const MAX_SAMPLES = 120;

function readConfig(): PageConfig {
  const content = document.querySelector<HTMLMetaElement>('meta[name="control-room-config"]')?.content ?? '';
  try {
    return JSON.parse(content) as PageConfig;
  } catch {
    return { service: 'control plane', env: '', version: '', rum: null };
  }
}

const config = readConfig();
if (config.rum) {
  // Only now is the RUM chunk fetched: without RUM configured, no code of the SDK is loaded or run.
  void import('./rum').then((rum) => rum.startRum(config, window.location.origin));
}

const api = new Api();

interface Sample {
  t: number;
  score: number | null;
  p95: number | null;
  errorRate: number | null;
  quality: number | null;
  meanQuality: number | null;
}
const samples: Sample[] = [];
let tick = 0;
let timer: number | undefined;
/** The refresh loop's number: a sign-out or a new sign-in ends the loop of the one before. */
let generation = 0;
/** The panels whose refresh is still out. */
const refreshing = new Set<string>();
let charts: { traffic: LineChart; quality: LineChart; forecast: LineChart } | null = null;
let lastHealth: HealthScore | null = null;
let incidentFiledForDrill = false;
let lastDrillAnnounce = 0;

// --- sign-in ---------------------------------------------------------------------------------------------------

function showSignedIn(signedIn: boolean): void {
  byId('login').hidden = signedIn;
  byId('session').hidden = !signedIn;
  byId('main').hidden = !signedIn;
  document.body.dataset.signedIn = String(signedIn);
}

async function signIn(key: string): Promise<void> {
  const error = byId('login-error');
  error.textContent = '';
  api.signIn(key);
  try {
    await api.get<HealthScore>('/insights/health-score?window=5m');
  } catch (e) {
    api.signOut();
    error.textContent =
      e instanceof ApiError && e.status === 401
        ? 'That API key was refused. Check it and try again.'
        : explainRefusal(e, 'Signing in failed');
    byId<HTMLInputElement>('api-key').focus();
    return;
  }
  byId<HTMLInputElement>('api-key').value = '';
  showSignedIn(true);
  byId('main').focus();
  start();
}

function signOut(): void {
  // A drill's provider faults fail everyone's calls: turned off with the key, before the key is forgotten (the call
  // takes its headers now), and the drill's own calls stopped.
  void turnProviderFaultsOff();
  void drill.stop();
  api.signOut();
  stop();
  showSignedIn(false);
  byId<HTMLInputElement>('api-key').focus();
}

// --- refresh ---------------------------------------------------------------------------------------------------

function start(): void {
  charts ??= createCharts();
  stop();
  void refresh(generation);
}

/** Ends the refresh loop: the one in flight finishes its calls but schedules no other. */
function stop(): void {
  generation += 1;
  if (timer !== undefined) window.clearTimeout(timer);
  timer = undefined;
}

async function refresh(run: number): Promise<void> {
  const slow = tick % SLOW_EVERY === 0;
  tick += 1;
  const jobs: Promise<void>[] = [
    panel('health', updateHealth),
    panel('traffic', updateTraffic),
    panel('incidents', updateIncidents),
    panel('router', updateRouter),
  ];
  // The slower reports are not waited for: a slow POST /insights must not hold the live panels on old numbers.
  if (slow) {
    void panel('spend', updateSpend);
    void panel('recommendations', updateRecommendations);
  }
  await Promise.all(jobs);
  // Signed out, or signed in again, while these calls were out: that session has its own loop (or none).
  if (run !== generation || !api.signedIn) return;
  setText('refresh-state', `Updated ${new Date().toLocaleTimeString('en-GB')}; every ${REFRESH_MS / 1000} s.`);
  timer = window.setTimeout(() => void refresh(run), REFRESH_MS);
}

async function panel(name: string, update: () => Promise<void>): Promise<void> {
  // Its last refresh is still out (for at most CALL_TIMEOUT_MS, api.ts): not a second one on top of it.
  if (refreshing.has(name)) return;
  refreshing.add(name);
  try {
    await update();
    if (byId(`panel-${name}`).dataset.state !== 'unavailable') setPanelState(name, 'ok');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut();
      byId('login-error').textContent = 'The API key is no longer accepted: sign in again.';
      return;
    }
    setPanelState(name, 'error', explainRefusal(error, 'Could not refresh'));
  } finally {
    refreshing.delete(name);
  }
}

// --- panels ----------------------------------------------------------------------------------------------------

async function updateHealth(): Promise<void> {
  const health = await api.get<HealthScore>('/insights/health-score?window=5m');
  lastHealth = health;
  const status = normaliseStatus(health.status, health.score);
  const score = byId('health-score');
  score.textContent = formatScore(health.score);
  score.style.color = statusColour(status);
  const badge = byId('health-status');
  badge.textContent = statusLabel(status);
  badge.style.backgroundColor = statusColour(status);
  byId('panel-health').dataset.status = status;
  const list = byId('health-components');
  list.replaceChildren(
    ...HEALTH_COMPONENTS.map((name) => {
      const value = health.components?.[name] ?? null;
      const meter = h('meter', {
        min: '0',
        max: '100',
        low: '60',
        high: '80',
        optimum: '100',
        value: value === null ? '0' : String(value),
        'aria-label': `${name} component`,
      });
      return h(
        'li',
        { 'data-component': name },
        h('span', { class: 'component-name' }, name),
        meter,
        h('span', { class: 'component-value' }, value === null ? 'no data' : formatScore(value)),
      );
    }),
  );
  const requests = health.signals?.requests ?? 0;
  // The window's length is the server's (HEALTH_WINDOW_SHORT_MS), not always 5 minutes.
  const span = windowSpan(health.window?.durationMs) ?? '5 minutes';
  setText(
    'health-window',
    health.window
      ? `Last ${span} (${formatCount(requests)} calls), to ${new Date(health.window.to).toLocaleTimeString('en-GB')}.`
      : `No calls in the last ${span}.`,
  );
  setText('quality-now-label', `Now (last ${span})`);
  samples.push({
    t: Date.now() / 1000,
    score: health.score,
    p95: health.signals?.p95LatencyMs ?? null,
    errorRate: health.signals?.errorRate ?? null,
    quality: health.components?.quality ?? null,
    meanQuality: health.signals?.meanQuality ?? null,
  });
  if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
  const xs = samples.map((s) => s.t);
  charts?.traffic.set(xs, [
    samples.map((s) => s.p95),
    samples.map((s) => (s.errorRate === null ? null : s.errorRate * 100)),
  ]);
  charts?.quality.set(xs, [samples.map((s) => s.quality), samples.map((s) => s.score)]);
  const quality = health.components?.quality ?? null;
  setText('quality-now', quality === null ? 'no data' : formatScore(quality));
  setText('quality-mean', health.signals?.meanQuality == null ? '—' : health.signals.meanQuality.toFixed(2));
  await maybeFileDrillIncident(health);
}

async function updateTraffic(): Promise<void> {
  const hour = await api.get<HealthScore>('/insights/health-score?window=1h');
  const s = hour.signals;
  // The `1h` window is HEALTH_WINDOW_LONG_MS long.
  const span = windowSpan(hour.window?.durationMs) ?? 'hour';
  setText('traffic-title', `Traffic, last ${span}`);
  setText('quality-hour-label', `Last ${span}`);
  setText('traffic-requests', formatCount(s?.requests ?? 0));
  setText('traffic-errors', formatRate(s?.errorRate));
  setText('traffic-p50', formatMs(s?.p50LatencyMs));
  setText('traffic-p95', formatMs(s?.p95LatencyMs));
  setText('quality-hour', hour.components?.quality == null ? 'no data' : formatScore(hour.components.quality));
  const models = byId('traffic-models');
  models.replaceChildren(
    ...(hour.models ?? []).map((m) =>
      h(
        'li',
        {},
        `${m.model}: ${formatCount(m.signals?.requests ?? 0)} calls, score ${formatScore(m.score)} (${statusLabel(normaliseStatus(m.status, m.score))})`,
      ),
    ),
  );
}

async function updateSpend(): Promise<void> {
  const forecast = await api.get<CostForecast>('/forecast/cost?hours=24');
  const budget = forecast.budget ?? null;
  setText('spend-today', formatUsd(budget?.spentTodayUsd ?? null));
  setText('spend-budget', budget?.dailyBudgetUsd ? formatUsd(budget.dailyBudgetUsd) : 'not set');
  const use = budgetUse(budget?.spentTodayUsd, budget?.dailyBudgetUsd);
  const meter = byId<HTMLMeterElement>('spend-meter');
  meter.hidden = use.share === null;
  meter.value = use.share ?? 0;
  setText(
    'spend-risk',
    budget?.dailyBudgetUsd
      ? `Budget risk ${budget.risk ?? 'unknown'}${use.over ? ', over budget' : ''}.`
      : 'No daily budget: set DAILY_BUDGET_USD to compare.',
  );
  setText('forecast-total', formatUsd(forecast.totalUsd));
  setText(
    'forecast-interval',
    forecast.totalLowerUsd === null || forecast.totalUpperUsd === null
      ? '—'
      : `${formatUsd(forecast.totalLowerUsd)} – ${formatUsd(forecast.totalUpperUsd)} (80 %)`,
  );
  const model = forecast.servedBy === 'ml' ? forecast.model : null;
  setText(
    'forecast-method',
    forecast.servedBy === 'none'
      ? `none: ${forecast.reason ?? 'no forecast yet'}`
      : `${forecast.servedBy === 'ml' ? 'model' : forecast.servedBy}: ${forecast.method}` +
          (model?.backend ? `, ${model.backend}` : '') +
          (model?.trainedAt ? `, trained ${formatAge(model.trainedAt, Date.now())}` : '') +
          (forecast.confidence !== null ? `, confidence ${formatConfidence(forecast.confidence)}` : '') +
          (forecast.reason ? ` (${forecast.reason})` : ''),
  );
  const hourly = forecast.hourly ?? [];
  // Nothing to chart without a forecast (an empty time axis would start in 1970).
  byId('chart-forecast').hidden = hourly.length === 0;
  if (hourly.length === 0) return;
  charts?.forecast.set(
    hourly.map((p) => Date.parse(p.hour) / 1000),
    [hourly.map((p) => p.costUsd), hourly.map((p) => p.lowerUsd), hourly.map((p) => p.upperUsd)],
  );
}

async function updateRecommendations(): Promise<void> {
  const insights = await api.post<Insights>('/insights', {});
  const list = byId('recommendations');
  const top = byPriority(insights.recommendations ?? []).slice(0, 5);
  if (top.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, 'No recommendation: nothing in the ledger calls for one.'));
    return;
  }
  list.replaceChildren(
    ...top.map((r) =>
      h(
        'li',
        {},
        h('strong', {}, r.title),
        ' ',
        h('span', { class: `tag priority-${r.priority}` }, `${r.priority} · ${r.category}`),
        h('p', { class: 'evidence' }, `Evidence: ${r.evidence?.summary ?? 'none given'}`),
        h(
          'p',
          { class: 'confidence' },
          `Confidence ${formatConfidence(r.confidence)}${r.expected_impact ? ` · ${r.expected_impact}` : ''}`,
        ),
      ),
    ),
  );
}

/**
 * The open incidents listed, and the outbox rows read to find them (pages of 200, newest first): at most 3 calls a
 * refresh, 36 a minute, so that with the panels' other calls and a drill's 8 a second the page stays under the key's
 * default rate limit (RATE_LIMIT_PER_MINUTE, 600).
 */
const INCIDENTS_SHOWN = 8;
const INCIDENT_PAGES = 3;
const INCIDENT_PAGE_ROWS = 200;

/**
 * The open incidents: read from the newest outbox rows, where a monitor that keeps alerting adds an update row at each
 * alert (so a page of rows may hold no create at all), until INCIDENTS_SHOWN are found or the outbox is read through.
 */
async function readOpenIncidents(): Promise<{ open: OpenIncident[]; searched: number; complete: boolean }> {
  const rows: OutboxEntry[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < INCIDENT_PAGES; page++) {
    const list: IncidentList = await api.get<IncidentList>(
      `/incidents?limit=${INCIDENT_PAGE_ROWS}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    rows.push(...list.entries);
    cursor = list.next_cursor ?? null;
    if (cursor === null || openIncidents(rows).length >= INCIDENTS_SHOWN) break;
  }
  return { open: openIncidents(rows), searched: rows.length, complete: cursor === null };
}

async function updateIncidents(): Promise<void> {
  const [status, found] = await Promise.all([api.get<IncidentsStatus>('/incidents/status'), readOpenIncidents()]);
  const o = status.outbox;
  // Incidents open now (the server's count, whatever the outbox rows read below show); Pending counts outbox rows
  // waiting to be sent (a create or an update each).
  const open = status.open_incidents;
  setText('incidents-open', open ? formatCount(open.count) : '—');
  setText('incidents-pending', formatCount(o.pending + o.delivering));
  setText('incidents-delivered', formatCount(o.delivered));
  setText('incidents-failed', formatCount(o.failed));
  setText(
    'incidents-note',
    status.api_configured
      ? (status.message ?? 'Delivered to Datadog Incident Management.')
      : (status.message ?? 'Datadog is not configured: incidents wait in the outbox (pending).'),
  );
  const now = Date.now();
  const shown = found.open.slice(0, INCIDENTS_SHOWN);
  const items: HTMLElement[] = shown.map((incident) =>
    h(
      'li',
      { 'data-state': incident.state },
      // Isolated: a title's right-to-left or override characters stay inside it.
      h('bdi', {}, h('strong', {}, incident.title)),
      h('span', { class: 'tag' }, `${incident.severity ?? ''} ${incident.state} · open`),
      h(
        'span',
        { class: 'meta' },
        [
          incident.openedAt ? `opened ${formatAge(incident.openedAt, now)}` : null,
          `last alert ${formatAge(incident.lastAt, now)}`,
          incident.alertCount !== null
            ? `${formatCount(incident.alertCount)} alert${incident.alertCount === 1 ? '' : 's'}`
            : null,
        ]
          .filter(Boolean)
          .join(', '),
      ),
    ),
  );
  if (items.length === 0) {
    items.push(
      h(
        'li',
        { class: 'empty' },
        found.complete
          ? 'No open or pending incident.'
          : `No open incident in the newest ${formatCount(found.searched)} outbox rows.`,
      ),
    );
  } else if (!found.complete && (open === undefined || open.count > shown.length)) {
    items.push(
      h(
        'li',
        { class: 'empty' },
        open === undefined
          ? `More may be open: the newest ${formatCount(found.searched)} outbox rows were read (GET /incidents has them all).`
          : `${formatCount(open.count)} open in all; the newest ${formatCount(found.searched)} outbox rows were read (GET /incidents has them all).`,
      ),
    );
  } else if (found.open.length > shown.length) {
    items.push(
      h('li', { class: 'empty' }, `${formatCount(found.open.length - shown.length)} more open (GET /incidents).`),
    );
  }
  byId('incidents-list').replaceChildren(...items);
}

async function updateRouter(): Promise<void> {
  const router = await api.optional<RouterState>('/llm/router');
  const body = byId('router-models');
  if (!router.found) {
    setText('router-status', 'router: not available');
    body.replaceChildren();
    setPanelState('router', 'unavailable');
    return;
  }
  const r = router.body;
  setPanelState('router', 'ok');
  setText(
    'router-status',
    `Mode ${r.mode}; candidates ${r.candidates.join(', ') || 'none'}; predictor ${
      r.predictor.loaded
        ? `loaded (trained on ${formatCount(r.predictor.trainedOn)} calls)`
        : `not loaded${r.predictor.reason ? `: ${r.predictor.reason}` : ''}`
    }; ${formatCount(r.decisions.total)} decisions in the last ${formatCount(r.decisions.windowS)} s.`,
  );
  body.replaceChildren(
    ...decisionShares(r.decisions.byModel).map((m) => {
      const reasons = r.decisions.byModel.find((b) => b.model === m.model)?.byReason ?? {};
      return h(
        'tr',
        {},
        h('th', { scope: 'row' }, m.model),
        h('td', {}, formatCount(m.count)),
        h('td', {}, formatPercent(m.share * 100)),
        h(
          'td',
          {},
          Object.entries(reasons)
            .map(([reason, n]) => `${reason} ${n}`)
            .join(', ') || '—',
        ),
      );
    }),
  );
}

function createCharts(): { traffic: LineChart; quality: LineChart; forecast: LineChart } {
  return {
    traffic: new LineChart(byId('chart-traffic'), {
      title: 'p95 latency and error rate of the last 5 minutes, sampled at each refresh',
      series: [
        { label: 'p95', stroke: '#0b5cad', scale: 'ms' },
        { label: 'errors', stroke: '#c62828', scale: '%', dash: [6, 4] },
      ],
      format: { ms: (v) => formatMs(v), '%': (v) => `${v.toFixed(v < 10 ? 1 : 0)} %` },
    }),
    quality: new LineChart(byId('chart-quality'), {
      title: 'Quality component and overall health score, sampled at each refresh',
      series: [
        { label: 'quality', stroke: '#6f42c1', scale: 'score' },
        { label: 'overall', stroke: '#3d444d', scale: 'score', dash: [6, 4] },
      ],
      format: { score: (v) => v.toFixed(0) },
    }),
    forecast: new LineChart(byId('chart-forecast'), {
      title: 'Hourly cost forecast for the next 24 hours with its 80 % interval',
      series: [
        { label: 'forecast', stroke: '#0b5cad', scale: 'usd' },
        { label: 'low', stroke: '#8c959f', scale: 'usd', dash: [3, 3] },
        { label: 'high', stroke: '#8c959f', scale: 'usd', dash: [3, 3] },
      ],
      bands: [{ series: [3, 2], fill: 'rgba(11, 92, 173, 0.12)' }],
      format: { usd: (v) => formatUsd(v) },
    }),
  };
}

// --- drill -----------------------------------------------------------------------------------------------------

/** A drill call is a model call: it may take up to LLM_DEADLINE_MS (120 s by default) before its answer. */
const DRILL_CALL_TIMEOUT_MS = 150_000;

const drill = new Drill(
  async (path, body) => {
    try {
      await api.post(path, body, DRILL_CALL_TIMEOUT_MS);
      return 200;
    } catch (error) {
      if (!(error instanceof ApiError)) return 0;
      // A key that may not run drills stops the drill; every other refusal is what the drill provokes.
      if (error.status === 401 || error.status === 403) throw new Error(error.message, { cause: error });
      return error.status;
    }
  },
  (progress) => {
    // The status is a live region: announced at the start and the end, and at most every 3 s in between.
    const now = Date.now();
    if (!progress.running || progress.sent === 0 || now - lastDrillAnnounce >= 3000) {
      lastDrillAnnounce = now;
      setText('drill-status', describeDrill(progress, now));
    }
    byId<HTMLButtonElement>('drill-start').disabled = progress.running;
    byId<HTMLButtonElement>('drill-stop').disabled = !progress.running;
    byId('panel-drill').dataset.running = String(progress.running);
  },
);

/** The share of calls the provider fault drill fails (`POST /llm/drills/faults`). */
const PROVIDER_ERROR_RATE = 0.5;
/** Whether this page's drill turned the provider's faults on (and has not turned them off yet). */
let providerFaultsOn = false;

async function startDrill(): Promise<void> {
  const form = byId<HTMLFormElement>('drill-form');
  const faults = DRILL_FAULTS.filter((f) => (form.elements.namedItem(f) as HTMLInputElement | null)?.checked);
  const providerErrors = (form.elements.namedItem('provider_errors') as HTMLInputElement | null)?.checked === true;
  const seconds = Number((form.elements.namedItem('duration') as HTMLSelectElement).value);
  if (faults.length === 0 && !providerErrors) {
    setText('drill-status', 'Choose at least one fault to inject.');
    return;
  }
  incidentFiledForDrill = false;
  setText('drill-provider-status', '');
  if (providerErrors) {
    try {
      await api.post('/llm/drills/faults', { error_rate: PROVIDER_ERROR_RATE, duration_s: seconds });
      providerFaultsOn = true;
      setText(
        'drill-provider-status',
        `Provider faults on for ${seconds} s: ${PROVIDER_ERROR_RATE * 100} % of calls fail.`,
      );
    } catch (error) {
      // A real provider (409) or a key without admin: the calls below still run.
      setText('drill-provider-status', explainRefusal(error, 'Provider faults not turned on'));
    }
  }
  // However the drill ends (its time, Stop, or a refusal that stops it early), the faults it turned on end with it.
  void drill
    .start({ faults, durationMs: seconds * 1000, concurrency: 2, minIntervalMs: 250 })
    .then(() => turnProviderFaultsOff());
}

async function stopDrill(): Promise<void> {
  await drill.stop();
  await turnProviderFaultsOff();
}

/**
 * Turns off the provider faults this page's drill turned on, and only those: a fault drill someone else runs
 * (`POST /llm/drills/faults` from a shell, another tab) is not this page's to end.
 */
async function turnProviderFaultsOff(): Promise<void> {
  if (!providerFaultsOn) return;
  providerFaultsOn = false;
  try {
    await api.delete('/llm/drills/faults');
    setText('drill-provider-status', 'Provider faults off.');
  } catch (error) {
    setText('drill-provider-status', explainRefusal(error, 'Turning provider faults off failed'));
  }
}

/** During a drill, once the score turns critical: one incident from the health insight (admin scope). */
async function maybeFileDrillIncident(health: HealthScore): Promise<void> {
  const wanted = byId<HTMLInputElement>('drill-incident').checked;
  if (!wanted || incidentFiledForDrill || !drill.state.running) return;
  if (normaliseStatus(health.status, health.score) !== 'critical') return;
  incidentFiledForDrill = true;
  const components = HEALTH_COMPONENTS.map((c) => `${c} ${formatScore(health.components?.[c] ?? null)}`).join(', ');
  try {
    await api.post('/incidents/create-from-insight', {
      insight_type: 'health_score_critical',
      title: `LLM health score critical (${formatScore(health.score)}) during a control room drill`,
      description: `The health score of the last ${windowSpan(health.window?.durationMs) ?? '5 minutes'} fell to ${formatScore(health.score)}: ${components}.`,
      recommendations: [
        'Stop the drill (control room, Drill panel) if it is still running.',
        'Check the lowest component in GET /insights/health-score and its runbook.',
        'Confirm the score recovers above 80 within the window.',
      ],
      severity: 'SEV-3',
      metric: 'llm.health.score',
    });
    setText('drill-incident-status', 'Incident filed: it is in the outbox (see Incidents).');
    await panel('incidents', updateIncidents);
  } catch (error) {
    setText('drill-incident-status', explainRefusal(error, 'Filing the incident failed'));
  }
}

// --- wiring ----------------------------------------------------------------------------------------------------

function init(): void {
  setText('whoami', [config.service, config.env, config.version].filter(Boolean).join(' · '));
  byId<HTMLFormElement>('login').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = byId<HTMLInputElement>('api-key').value.trim();
    if (key === '') {
      byId('login-error').textContent = 'Type an API key first.';
      return;
    }
    const problem = keyProblem(key);
    if (problem !== null) {
      byId('login-error').textContent = problem;
      return;
    }
    void signIn(key);
  });
  byId('logout').addEventListener('click', signOut);
  byId<HTMLFormElement>('drill-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void startDrill();
  });
  byId('drill-stop').addEventListener('click', () => void stopDrill());
  byId('health-score').textContent = '—';
  if (lastHealth === null && api.signedIn) {
    showSignedIn(true);
    start();
  } else {
    showSignedIn(false);
  }
  document.body.dataset.ready = 'true';
}

init();
