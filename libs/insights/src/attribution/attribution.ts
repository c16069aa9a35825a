import { HOUR_MS, hourStart } from '@app/common';
import { ANY, type HourlyUsage, type UsageDimension } from '@app/ledger';
import type {
  AnomalyAttributionResponseDto,
  AnomalyMetric,
  AnomalySeverity,
  AttributionItemDto,
  AttributionSource,
  AttributionWindowDto,
} from '../dto/anomaly-attribution.dto';

/**
 * Anomaly attribution over the ledger's hourly rollups (docs/insights.md, "Anomaly attribution"): the metric in
 * the analysis window against the baseline window, and each endpoint's, provider's and model's share of the
 * change. Pure: the service reads the rollups and passes them in.
 */

/** The dimensions compared, in the order a tie between two equally explanatory values is broken. */
export const ATTRIBUTION_DIMENSIONS: readonly UsageDimension[] = ['model', 'provider', 'endpoint'];

/** A value explains the change beyond its size by at least this many percentage points to be a cause. */
export const MIN_EXCESS_PCT = 10;
/** A contributing factor carries at least this share of the change, percent. */
export const MIN_FACTOR_CONTRIBUTION_PCT = 10;
export const MAX_FACTORS = 3;
/** Items listed per dimension in `breakdown` (largest |contribution| first). */
export const MAX_BREAKDOWN_ITEMS = 50;
/** Requests (or scored requests) at which the volume factor of the confidence is one half. */
export const CONFIDENCE_HALF_VOLUME = 30;
/** Baseline hours with data needed to estimate its hourly variation (the z-score). */
export const MIN_BASELINE_HOURS_FOR_Z = 3;

export interface AttributionInput {
  metric: AnomalyMetric;
  /** The moment asked about (epoch ms). */
  anomalyAt: number;
  baselineHours: number;
  analysisHours: number;
  /** The clock: hours after it are not counted (a window ending in the current hour is partial). */
  now: number;
  /** Rollups in [baselineStart, analysisEnd): one row per hour (`total`) and grouped by each dimension. */
  total: readonly HourlyUsage[];
  byDimension: Readonly<Record<UsageDimension, readonly HourlyUsage[]>>;
  /** Where the rows come from (default the ledger). */
  source?: AttributionSource;
  /**
   * The ledger's first hour with usage, when it falls after the baseline's start: the hours before it are no history
   * (the ledger did not exist yet, or its retention purged them), not hours that cost $0. The baseline starts there.
   */
  historyFrom?: number;
}

/** The windows for a moment: the analysis window is the `analysisHours` hours ending with the hour holding it. */
export function attributionWindows(
  anomalyAt: number,
  baselineHours: number,
  analysisHours: number,
): { baselineStart: number; analysisStart: number; analysisEnd: number } {
  const analysisEnd = hourStart(anomalyAt) + HOUR_MS;
  const analysisStart = analysisEnd - analysisHours * HOUR_MS;
  return { baselineStart: analysisStart - baselineHours * HOUR_MS, analysisStart, analysisEnd };
}

/** Numerator and weight of the metric: value = num / weight (cost: weight is the window's hours). */
interface Sums {
  num: number;
  weight: number;
  requests: number;
  hours: Set<number>;
}

const emptySums = (): Sums => ({ num: 0, weight: 0, requests: 0, hours: new Set() });

function numerator(metric: AnomalyMetric, row: HourlyUsage): number {
  switch (metric) {
    case 'cost':
      return row.costUsd;
    case 'latency':
      return row.latencyMsSum;
    case 'errors':
      return row.errors;
    case 'quality':
      return row.qualitySum;
  }
}

/**
 * What the metric is averaged over: quality, the scored requests; latency, the timed calls (`latencyCount`: not a
 * refusal that reached no model, an aborted or a rejected call, nor imported usage, which has no latency); errors, the
 * requests whose errors are known (not imported usage without an error count, `errorsUnknown`).
 */
function weight(metric: AnomalyMetric, row: HourlyUsage): number {
  if (metric === 'quality') return row.qualityCount;
  if (metric === 'latency') return row.latencyCount;
  if (metric === 'errors') return Math.max(0, row.requests - row.errorsUnknown);
  return row.requests;
}

function add(sums: Sums, metric: AnomalyMetric, row: HourlyUsage): void {
  sums.num += numerator(metric, row);
  sums.weight += weight(metric, row);
  sums.requests += row.requests;
  if (row.requests > 0 || numerator(metric, row) !== 0) sums.hours.add(row.hour);
}

/** Whether a window holds anything to compute the metric from. */
function hasData(metric: AnomalyMetric, s: Sums): boolean {
  return metric === 'cost' ? s.hours.size > 0 : s.weight > 0;
}

const UNIT: Record<AnomalyMetric, string> = {
  cost: 'usd_per_hour',
  latency: 'ms',
  errors: 'error_rate',
  quality: 'score',
};
const ANOMALY_TYPE: Record<AnomalyMetric, string> = {
  cost: 'cost_spike',
  latency: 'latency_spike',
  errors: 'error_burst',
  quality: 'quality_drop',
};

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));
const roundOrNull = (x: number | null, digits = 4): number | null => (x === null ? null : round(x, digits));
const pct = (a: number, b: number): number | null => (b === 0 ? null : (100 * (a - b)) / b);

interface Windows {
  baseline: { from: number; to: number; hours: number };
  analysis: { from: number; to: number; hours: number };
}

function computeWindows(input: AttributionInput): Windows {
  const w = attributionWindows(input.anomalyAt, input.baselineHours, input.analysisHours);
  // Only elapsed time counts: a window ending in the current hour is partial, a future one empty.
  const elapsed = (from: number, to: number): number => Math.max(0, Math.min(to, input.now) - from) / HOUR_MS;
  const from = Math.min(w.analysisStart, Math.max(w.baselineStart, input.historyFrom ?? w.baselineStart));
  return {
    baseline: { from, to: w.analysisStart, hours: elapsed(from, w.analysisStart) },
    analysis: { from: w.analysisStart, to: w.analysisEnd, hours: elapsed(w.analysisStart, w.analysisEnd) },
  };
}

function value(metric: AnomalyMetric, s: Sums, hours: number): number {
  if (metric === 'cost') return hours > 0 ? s.num / hours : 0;
  return s.weight > 0 ? s.num / s.weight : 0;
}

/** The sample (for the confidence's volume factor): requests, scored requests for quality. */
function volume(metric: AnomalyMetric, s: Sums): number {
  // Imported cost rows may carry no request counts: each hour with data is then one observation.
  if (metric === 'cost' && s.requests === 0) return s.hours.size;
  return s.weight;
}

function windowDto(
  metric: AnomalyMetric,
  s: Sums,
  w: { from: number; to: number; hours: number },
  ok: boolean,
): AttributionWindowDto {
  return {
    start: new Date(w.from).toISOString(),
    end: new Date(w.to).toISOString(),
    elapsedHours: round(w.hours, 3),
    value: ok ? round(value(metric, s, w.hours), 6) : null,
    requests: s.requests,
    sampleSize: metric === 'cost' ? s.requests : s.weight,
    hoursWithData: s.hours.size,
  };
}

/**
 * Hourly values of the baseline (cost: every elapsed hour, an idle hour is $0; the ratios: hours with requests)
 * → z of the analysis value against them, the standard error scaled to the analysis window's hours. Null with
 * fewer than MIN_BASELINE_HOURS_FOR_Z hours; ±Infinity when the baseline never varied and the value moved.
 */
function zScore(input: AttributionInput, win: Windows, baselineValue: number, analysisValue: number): number | null {
  const perHour = new Map<number, Sums>();
  for (const row of input.total) {
    if (row.hour < win.baseline.from || row.hour >= win.baseline.to) continue;
    let s = perHour.get(row.hour);
    if (!s) perHour.set(row.hour, (s = emptySums()));
    add(s, input.metric, row);
  }
  const values: number[] = [];
  if (input.metric === 'cost') {
    for (let h = win.baseline.from; h < win.baseline.to && h < input.now; h += HOUR_MS)
      values.push(perHour.get(h)?.num ?? 0);
  } else {
    for (const s of perHour.values()) if (s.weight > 0) values.push(s.num / s.weight);
  }
  if (values.length < MIN_BASELINE_HOURS_FOR_Z) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  const delta = analysisValue - baselineValue;
  if (sd === 0) return delta === 0 ? 0 : delta > 0 ? Infinity : -Infinity;
  const analysisHours = Math.max(1, Math.ceil(win.analysis.hours));
  return delta / (sd / Math.sqrt(analysisHours));
}

/** One dimension's items: each value's contribution to the total change (they sum to the change). */
function decompose(
  input: AttributionInput,
  dimension: UsageDimension,
  win: Windows,
  totals: { baseline: Sums; analysis: Sums; baselineValue: number; analysisValue: number; delta: number },
): AttributionItemDto[] {
  const { metric } = input;
  const segments = new Map<string, { baseline: Sums; analysis: Sums }>();
  for (const row of input.byDimension[dimension]) {
    const key = row[dimension];
    let seg = segments.get(key);
    if (!seg) segments.set(key, (seg = { baseline: emptySums(), analysis: emptySums() }));
    if (row.hour >= win.baseline.from && row.hour < win.baseline.to) add(seg.baseline, metric, row);
    else if (row.hour >= win.analysis.from && row.hour < win.analysis.to) add(seg.analysis, metric, row);
  }
  const { delta } = totals;
  const meanValue = (totals.analysisValue + totals.baselineValue) / 2;
  const items: AttributionItemDto[] = [];
  for (const [key, seg] of segments) {
    let effect: number;
    let rateEffect: number | null = null;
    let mixEffect: number | null = null;
    let baselineValue: number | null;
    let analysisValue: number | null;
    let expectedShare: number;
    if (metric === 'cost') {
      // Additive: the segment's own change in $/h.
      baselineValue = seg.baseline.num / win.baseline.hours;
      analysisValue = seg.analysis.num / win.analysis.hours;
      effect = analysisValue - baselineValue;
      expectedShare = totals.baseline.num > 0 ? seg.baseline.num / totals.baseline.num : 0;
    } else {
      // Ratio V = Σ w_s r_s: midpoint shift-share, Δ(w r) = Δr·w̄ + Δw·(r̄ − V̄) (exact; ΣΔw = 0).
      if (seg.baseline.weight === 0 && seg.analysis.weight === 0) continue;
      baselineValue = seg.baseline.weight > 0 ? seg.baseline.num / seg.baseline.weight : null;
      analysisValue = seg.analysis.weight > 0 ? seg.analysis.num / seg.analysis.weight : null;
      // A segment absent from one window keeps the other window's rate there: its change is all mix.
      const rB = baselineValue ?? analysisValue!;
      const rA = analysisValue ?? baselineValue!;
      const wB = seg.baseline.weight / totals.baseline.weight;
      const wA = seg.analysis.weight / totals.analysis.weight;
      rateEffect = (rA - rB) * ((wA + wB) / 2);
      mixEffect = (wA - wB) * ((rA + rB) / 2 - meanValue);
      effect = rateEffect + mixEffect;
      // What a change spread evenly would give it: latency scales (share of the latency sum), error rate and
      // quality shift (share of the requests, of the scored requests).
      expectedShare =
        metric === 'latency'
          ? totals.baseline.num > 0
            ? seg.baseline.num / totals.baseline.num
            : 0
          : seg.baseline.weight / totals.baseline.weight;
    }
    const contribution = delta === 0 ? 0 : (100 * effect) / delta;
    items.push({
      dimension,
      value: key,
      baselineValue: roundOrNull(baselineValue, 6),
      analysisValue: roundOrNull(analysisValue, 6),
      changePct:
        baselineValue === null || analysisValue === null ? null : roundOrNull(pct(analysisValue, baselineValue), 2),
      effect: round(effect, 6),
      rateEffect: roundOrNull(rateEffect, 6),
      mixEffect: roundOrNull(mixEffect, 6),
      contributionPct: round(contribution, 2),
      expectedSharePct: round(100 * expectedShare, 2),
      excessPct: round(contribution - 100 * expectedShare, 2),
      baselineRequests: seg.baseline.requests,
      analysisRequests: seg.analysis.requests,
    });
  }
  return items.sort((a, b) => Math.abs(b.contributionPct) - Math.abs(a.contributionPct));
}

/** Cost, latency and errors are worse when they rise; quality when it falls. */
function direction(metric: AnomalyMetric, delta: number): 'worse' | 'better' | 'unchanged' {
  if (delta === 0) return 'unchanged';
  return delta > 0 === (metric !== 'quality') ? 'worse' : 'better';
}

/**
 * Adverse changes only. Errors by the change of the rate in percentage points (≥ 20 critical, ≥ 10 high, ≥ 5
 * medium, ≥ 1 low); the others by the relative change (> 200 % critical, > 100 % high, > 50 % medium, ≥ 10 %
 * low; up from 0: critical). Within the baseline's hourly variation (|z| < 2) at most low.
 */
function severity(
  metric: AnomalyMetric,
  dir: 'worse' | 'better' | 'unchanged',
  delta: number,
  changePct: number | null,
  z: number | null,
): AnomalySeverity {
  if (dir !== 'worse') return 'none';
  let band: AnomalySeverity;
  if (metric === 'errors') {
    const points = Math.abs(delta) * 100;
    band = points >= 20 ? 'critical' : points >= 10 ? 'high' : points >= 5 ? 'medium' : points >= 1 ? 'low' : 'none';
  } else {
    const p = changePct === null ? Infinity : Math.abs(changePct);
    band = p > 200 ? 'critical' : p > 100 ? 'high' : p > 50 ? 'medium' : p >= 10 ? 'low' : 'none';
  }
  if (z !== null && Math.abs(z) < 2 && band !== 'none') return 'low';
  return band;
}

function describe(item: AttributionItemDto, metric: AnomalyMetric): string {
  const change =
    item.changePct === null ? 'appeared or vanished' : `${item.changePct > 0 ? '+' : ''}${item.changePct}%`;
  return `${item.dimension} ${item.value} (${metric} ${change}, ${item.contributionPct}% of the change)`;
}

function noData(
  input: AttributionInput,
  win: Windows,
  baseline: Sums,
  analysis: Sums,
  notes: string[],
): AnomalyAttributionResponseDto {
  const missing = [
    ...(hasData(input.metric, baseline) ? [] : ['the baseline window']),
    ...(hasData(input.metric, analysis)
      ? []
      : [win.analysis.hours === 0 ? 'the analysis window (future)' : 'the analysis window']),
  ];
  // Latency or errors over imported hours only: requests, but none timed or none with an error count (a "no usage"
  // beside their count would contradict it).
  const unmeasured = [baseline, analysis].some((w) => w.requests > 0 && w.weight === 0);
  const what =
    input.metric === 'quality'
      ? 'no scored requests'
      : input.metric === 'latency' && unmeasured
        ? 'no timed calls (imported usage carries no latency)'
        : input.metric === 'errors' && unmeasured
          ? 'no requests with a known error count (imported usage without an errors column)'
          : 'no usage';
  return {
    status: 'no_data',
    metric: input.metric,
    anomalyType: ANOMALY_TYPE[input.metric],
    unit: UNIT[input.metric],
    source: input.source ?? 'ledger',
    anomalyTimestamp: new Date(input.anomalyAt).toISOString(),
    generatedAt: new Date(input.now).toISOString(),
    summary: `${input.source === 'datadog' ? 'Datadog' : 'The ledger'} holds ${what} in ${missing.join(' or ')}: nothing to compare, no attribution.`,
    baseline: windowDto(input.metric, baseline, win.baseline, false),
    analysis: windowDto(input.metric, analysis, win.analysis, false),
    change: null,
    severity: null,
    confidence: null,
    primaryCause: null,
    contributingFactors: [],
    breakdown: { model: [], provider: [], endpoint: [] },
    notes,
  };
}

const REQUEST_TYPE_NOTE =
  'request type: the ledger records the endpoint (qa, reason, stress) as the request type; the endpoint dimension is it.';
const SOURCE_NOTES: Record<AttributionSource, string> = {
  ledger:
    "source: the usage ledger (recorded and imported usage, flushed every LEDGER_FLUSH_MS); source=datadog reads the same figures from the service's metrics in Datadog.",
  datadog:
    "source: the service's own llm.* metrics in Datadog (service and env of this process), hourly sums through the metrics query API; latency is the mean of llm.request.latency_ms, errors llm.error.count over llm.request.count.",
};
/**
 * What a `*` in the breakdown is: usage whose value of that dimension is not known, never a provider (or model, or
 * endpoint) named `*`. Imported usage has no endpoint or provider unless its file had the column, and Datadog's
 * series come per model only (docs/ledger.md, "Import").
 */
function unknownValueNotes(breakdown: Record<UsageDimension, AttributionItemDto[]>): string[] {
  const unknown = ATTRIBUTION_DIMENSIONS.filter((dim) => breakdown[dim].some((item) => item.value === ANY));
  if (unknown.length === 0) return [];
  return [
    `*: usage whose ${unknown.join(' or ')} is not known (imported usage without that column, or a Datadog import, per ` +
      'model only); not a value of that name.',
  ];
}

/** From this share of a model's calls in the analysis window, its fallbacks are said to be in its figures. */
export const FALLBACK_NOTE_SHARE = 0.05;

/**
 * A model named as a cause whose calls in the analysis window are partly fallbacks (`fallback_used`): the ledger
 * records such a call under the model that answered it, with the latency (failed attempts and retry backoff), the
 * billed attempts and the last error of the model that failed first, so that model's trouble reads as this one's.
 * Before, a primary model failing most attempts made the latency attribution name its healthy fallback alone.
 * The quality of an answer is the answering model's own: no note for it.
 */
function fallbackNotes(input: AttributionInput, win: Windows, causes: readonly AttributionItemDto[]): string[] {
  if (input.metric === 'quality') return [];
  const notes: string[] = [];
  for (const cause of causes) {
    if (cause.dimension !== 'model' || cause.value === ANY) continue;
    let calls = 0;
    let fallbacks = 0;
    for (const row of input.byDimension.model) {
      if (row.model !== cause.value || row.hour < win.analysis.from || row.hour >= win.analysis.to) continue;
      calls += row.requests;
      fallbacks += row.fallbacks;
    }
    if (fallbacks === 0 || fallbacks < FALLBACK_NOTE_SHARE * calls) continue;
    notes.push(
      `fallbacks: ${fallbacks} of the ${calls} calls recorded under model ${cause.value} in the analysis window ` +
        'reached it after another model of their chain failed (fallback_used); the ledger records such a call under ' +
        "the model that answered it, with the failed model's latency, retries and billed attempts, so part of this " +
        "change may be that model's (POST /insights names it).",
    );
  }
  return notes;
}

function notesOf(input: AttributionInput, win: Windows): string[] {
  const notes = [REQUEST_TYPE_NOTE, SOURCE_NOTES[input.source ?? 'ledger']];
  const asked = win.analysis.from - input.baselineHours * HOUR_MS;
  if (win.baseline.from > asked) {
    const hours = Math.round((win.baseline.to - win.baseline.from) / HOUR_MS);
    notes.push(
      `baseline: the ledger's usage begins at ${new Date(win.baseline.from).toISOString()}, so the baseline is the ` +
        `${hours} hours from then, not the ${input.baselineHours} asked: hours before a ledger's first usage are no ` +
        'history, not hours that cost $0.',
    );
  }
  return notes;
}

export function attributeAnomaly(input: AttributionInput): AnomalyAttributionResponseDto {
  const { metric } = input;
  const win = computeWindows(input);
  const baseline = emptySums();
  const analysis = emptySums();
  for (const row of input.total) {
    if (row.hour >= win.baseline.from && row.hour < win.baseline.to) add(baseline, metric, row);
    else if (row.hour >= win.analysis.from && row.hour < win.analysis.to) add(analysis, metric, row);
  }
  if (!hasData(metric, baseline) || !hasData(metric, analysis) || win.analysis.hours === 0)
    return noData(input, win, baseline, analysis, notesOf(input, win));

  const baselineValue = value(metric, baseline, win.baseline.hours);
  const analysisValue = value(metric, analysis, win.analysis.hours);
  // Float noise (sums of the same amounts in another order) is no change.
  const noise = 1e-9 * Math.max(Math.abs(baselineValue), Math.abs(analysisValue));
  const delta = Math.abs(analysisValue - baselineValue) <= noise ? 0 : analysisValue - baselineValue;
  const changePct = delta === 0 ? 0 : pct(analysisValue, baselineValue);
  const z = zScore(input, win, baselineValue, analysisValue);
  const dir = direction(metric, delta);
  const totals = { baseline, analysis, baselineValue, analysisValue, delta };

  const breakdown = {} as Record<UsageDimension, AttributionItemDto[]>;
  for (const dim of ATTRIBUTION_DIMENSIONS) breakdown[dim] = decompose(input, dim, win, totals);

  // Candidates: values that carry the change beyond their size; ties go to the earlier dimension (model first).
  const candidates =
    delta === 0
      ? []
      : ATTRIBUTION_DIMENSIONS.flatMap((dim) => breakdown[dim])
          .filter((i) => i.contributionPct > 0 && i.excessPct >= MIN_EXCESS_PCT)
          .sort((a, b) => b.excessPct - a.excessPct);
  const primary = candidates[0] ?? null;
  const factors = candidates
    .slice(1)
    .filter((i) => i.contributionPct >= MIN_FACTOR_CONTRIBUTION_PCT)
    .slice(0, MAX_FACTORS);

  // Confidence: volume × significance × concentration, each in [0, 1].
  const n = Math.min(volume(metric, baseline), volume(metric, analysis));
  const fVolume = n / (n + CONFIDENCE_HALF_VOLUME);
  const fSignificance = z === null ? 0.5 : 1 - Math.exp(-Math.abs(z) / 3);
  const fConcentration = primary ? Math.min(1, Math.max(0, primary.contributionPct / 100)) : 1;
  const confidence = round(fVolume * fSignificance * fConcentration, 3);

  const sev = severity(metric, dir, delta, changePct, z);
  const fmt = (v: number): string => String(round(v, 4));
  const changeText =
    changePct === null
      ? `${fmt(baselineValue)} → ${fmt(analysisValue)}`
      : `${changePct > 0 ? '+' : ''}${round(changePct, 1)}%`;
  const summary =
    delta === 0
      ? `${metric} did not change (${fmt(baselineValue)} ${UNIT[metric]}).`
      : `${metric} ${changeText} (${fmt(baselineValue)} → ${fmt(analysisValue)} ${UNIT[metric]}), severity ${sev}. ` +
        (primary
          ? `Primary cause: ${describe(primary, metric)}.`
          : 'No single cause: the change is spread across endpoints, providers and models in proportion to their size.');

  return {
    status: 'ok',
    metric,
    anomalyType: ANOMALY_TYPE[metric],
    unit: UNIT[metric],
    source: input.source ?? 'ledger',
    anomalyTimestamp: new Date(input.anomalyAt).toISOString(),
    generatedAt: new Date(input.now).toISOString(),
    summary,
    baseline: windowDto(metric, baseline, win.baseline, true),
    analysis: windowDto(metric, analysis, win.analysis, true),
    change: {
      absolute: round(delta, 6),
      percent: roundOrNull(changePct, 2),
      zScore: z === null ? null : Number.isFinite(z) ? round(z, 2) : null,
      direction: dir,
    },
    severity: sev,
    confidence,
    primaryCause: primary,
    contributingFactors: factors,
    breakdown: {
      model: breakdown.model.slice(0, MAX_BREAKDOWN_ITEMS),
      provider: breakdown.provider.slice(0, MAX_BREAKDOWN_ITEMS),
      endpoint: breakdown.endpoint.slice(0, MAX_BREAKDOWN_ITEMS),
    },
    notes: [
      ...notesOf(input, win),
      ...unknownValueNotes(breakdown),
      ...fallbackNotes(input, win, primary ? [primary, ...factors] : []),
    ],
  };
}
