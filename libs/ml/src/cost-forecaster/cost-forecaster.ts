import { HOUR_MS, seededRandom } from '@app/common';
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { fileLoadHandler, fileSaveHandler } from '../tfjs/file-io-handler';
import type { TfjsRuntime } from '../tfjs/tfjs-runtime';
import {
  BASELINES,
  baselineForecast,
  FEATURE_NAMES,
  fitSeasonalProfile,
  LOG_OFFSET,
  logRatio,
  MAX_HORIZON,
  median,
  MIN_HISTORY,
  type SeasonalProfile,
  writeFeatures,
} from './forecast-features';
import { baselineOn as baselineFromHistory, MIN_BACKTEST_HOURS } from './baseline-forecast';
import { forecastAfterLevelShift } from './level-shift';
import { backtestOnHistory, HISTORY_BACKTEST_MIN_TARGETS, type HistoryBacktest } from './history-backtest';
import { confidenceOf, errorMetrics, intervalFromResiduals, mapeWords, naiveScale } from './forecast-accuracy';
import type {
  BaselineName,
  CostForecast,
  ForecasterCard,
  ForecastMethod,
  HourlySeries,
  MethodReport,
} from './forecast.types';

export const SCALER_JSON = 'scaler.json';
export const CARD_JSON = 'card.json';
const F = FEATURE_NAMES.length;

/**
 * Standardisation statistics and the seasonal profile. The network predicts log(cost / E + offset), E the
 * seasonal expectation (level × profile), i.e. the residual around the seasonal expectation: errors are relative,
 * so night hours (small costs, large weight in MAPE) count as much as peak hours; the offset keeps hours without
 * usage finite.
 */
export interface Scaler {
  featureMean: number[];
  featureStd: number[];
  /** Median of the training targets. */
  targetCentre: number;
  /** Root mean square deviation of the training targets from the centre. */
  targetScale: number;
  profile: SeasonalProfile;
}

export interface TrainCostOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Held-out tail, in hours (default 14 days). */
  validationHours?: number;
  /** Cap on training rows (origins are strided to fit). */
  maxRows?: number;
  seed?: number;
  onEpoch?: (epoch: number, epochs: number, loss: number) => void;
}

/** Thrown when the series is too short to train and validate, or its held-out tail holds (almost) no cost. */
export class NotEnoughHistoryError extends Error {}

/** Fewest held-out hours with cost a card's validation (its MAPE, so its confidence) is computed from. */
export const MIN_HELD_OUT_HOURS_WITH_SPEND = MAX_HORIZON;

function standardise(x: Float32Array, rows: number, scaler: Scaler): void {
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < F; f++) x[r * F + f] = (x[r * F + f]! - scaler.featureMean[f]!) / scaler.featureStd[f]!;
  }
}

function fitScaler(x: Float32Array, y: Float32Array, rows: number, profile: SeasonalProfile): Scaler {
  const featureMean = new Array<number>(F).fill(0);
  const featureStd = new Array<number>(F).fill(0);
  for (let r = 0; r < rows; r++) for (let f = 0; f < F; f++) featureMean[f]! += x[r * F + f]! / rows;
  for (let r = 0; r < rows; r++)
    for (let f = 0; f < F; f++) featureStd[f]! += (x[r * F + f]! - featureMean[f]!) ** 2 / rows;
  // Centre: the median. The network's output starts there (zero output weights), close to where the relative-error
  // fit ends; the mean would start it off by the bursts and the weeks after a level shift.
  const targetCentre = median(Array.from(y));
  let targetVar = 0;
  for (let r = 0; r < rows; r++) targetVar += (y[r]! - targetCentre) ** 2 / rows;
  return {
    featureMean,
    featureStd: featureStd.map((v) => (v > 1e-12 ? Math.sqrt(v) : 1)),
    targetCentre,
    targetScale: targetVar > 1e-12 ? Math.sqrt(targetVar) : 1,
    profile,
  };
}

/** Builds the (origin, horizon) rows for origins in `origins` (all horizons 1..24). */
function buildRows(
  series: HourlySeries,
  profile: SeasonalProfile,
  origins: readonly number[],
): { x: Float32Array; levels: Float64Array; rows: number; origins: readonly number[] } {
  const rows = origins.length * MAX_HORIZON;
  const x = new Float32Array(rows * F);
  const levels = new Float64Array(rows);
  let r = 0;
  for (const o of origins) {
    for (let h = 1; h <= MAX_HORIZON; h++) {
      levels[r] = writeFeatures(series, profile, o, h, x, r * F);
      r += 1;
    }
  }
  return { x, levels, rows, origins };
}

/** Origins from..to, every `stride` hours, counted back from `to` (the latest origin is always in). */
function stridedOrigins(from: number, to: number, stride: number): number[] {
  const origins: number[] = [];
  for (let o = to; o >= from; o -= stride) origins.push(o);
  return origins;
}

interface Prepared {
  scaler: Scaler;
  /** Standardised features and targets. */
  x: Float32Array;
  y: Float32Array;
  rows: number;
}

/** Profile fitted on every origin from..to, rows on the strided origins, scaler fitted on the rows. */
function prepare(series: HourlySeries, from: number, to: number, stride: number): Prepared {
  const all: number[] = [];
  for (let o = from; o <= to; o++) all.push(o);
  const profile = fitSeasonalProfile(series, all);
  const rows = buildRows(series, profile, stridedOrigins(from, to, stride));
  const y = new Float32Array(rows.rows);
  let r = 0;
  for (const o of rows.origins) {
    for (let h = 1; h <= MAX_HORIZON; h++) y[r] = logRatio(series.cost[o + h]!, rows.levels[r++]!);
  }
  const scaler = fitScaler(rows.x, y, rows.rows, profile);
  standardise(rows.x, rows.rows, scaler);
  return { scaler, x: rows.x, y: y.map((v) => (v - scaler.targetCentre) / scaler.targetScale), rows: rows.rows };
}

/** Costs predicted from standardised rows. */
function predictScaled(
  runtime: TfjsRuntime,
  model: LayersModel,
  scaler: Scaler,
  x: Float32Array,
  levels: Float64Array,
  rows: number,
): number[] {
  const { tf } = runtime;
  const out = tf.tidy(() => (model.predict(tf.tensor2d(x, [rows, F])) as ReturnType<typeof tf.tensor2d>).dataSync());
  const result = new Array<number>(rows);
  for (let r = 0; r < rows; r++) {
    const predicted = out[r]! * scaler.targetScale + scaler.targetCentre;
    result[r] = Math.max(0, (Math.exp(predicted) - LOG_OFFSET) * levels[r]!);
  }
  return result;
}

/**
 * A trained cost forecaster: a direct multi-horizon dense network (one call predicts the next 24 hours),
 * its scaler, its card (validation metrics of the model and of every baseline), and the choice of what
 * serves: the model only when it beat the best baseline on the held-out tail.
 */
export class CostForecaster {
  /** The last history backtested, and what it found. */
  private tested?: { key: string; result: HistoryBacktest | null };

  constructor(
    private readonly runtime: TfjsRuntime,
    readonly model: LayersModel | null,
    readonly scaler: Scaler,
    readonly card: ForecasterCard,
  ) {}

  /** Predicts the model's output for prepared feature rows (raw features; standardised here). */
  predictRows(x: Float32Array, levels: Float64Array, rows: number): number[] {
    if (!this.model) throw new Error('no model');
    const scaled = new Float32Array(x);
    standardise(scaled, rows, this.scaler);
    return predictScaled(this.runtime, this.model, this.scaler, scaled, levels, rows);
  }

  /**
   * The next `hours` (1..24) hourly costs after the series' last hour, with 80 % intervals. With at least
   * MIN_HISTORY hours, what serves is what forecast this history best: the model and every usable baseline are
   * backtested on the history itself (its last week of origins, `backtestOnHistory`), and the lowest error serves,
   * with that backtest's confidence and interval (`validationBasis: backtest`). The card's validation, measured on
   * the data the model was trained on (synthetic for the committed artifacts), is never served as the confidence of
   * a forecast of other data. With too little spend in that week to backtest, the card's choice serves with
   * confidence 0. With less than MIN_HISTORY hours, or without a model, the baseline a backtest on this history
   * favours serves (`baselineFromHistory`). `override` serves that method whatever the backtest says. After a level
   * shift in the last day, from the new level (`forecastAfterLevelShift`).
   */
  forecast(series: HourlySeries, hours: number, override?: ForecastMethod): CostForecast {
    return forecastAfterLevelShift(series, (s) => this.forecastOn(s, hours, override));
  }

  private forecastOn(series: HourlySeries, hours: number, override?: ForecastMethod): CostForecast {
    const n = series.cost.length;
    const origin = n - 1;
    const horizon = Math.max(1, Math.min(MAX_HORIZON, Math.floor(hours)));
    const carded: ForecastMethod = override ?? this.card.served;
    if (n < MIN_HISTORY) {
      const what = carded === 'ml' ? 'the model' : `the card's ${carded}`;
      return baselineFromHistory(
        series,
        hours,
        this.card.ewmaAlpha,
        `${n} hours of history, ${what} needs ${MIN_HISTORY}`,
      );
    }
    if (carded === 'ml' && !this.model) {
      return baselineFromHistory(series, hours, this.card.ewmaAlpha, 'the trained network is missing');
    }
    const tested = this.backtest(series);
    if (!tested && !override) {
      // The model cannot be backtested on this history (its first origin is 168 h in: with less than a day of
      // targets after it, or too little spend in its last week). Before, the card's choice served then, untested
      // on this history (confidence 0, no interval), in place of a baseline backtested on the whole history: with
      // 168–179 h of a flat or weekly history the model's real error was 34–50 % where EWMA's or t−168's was 4–12 %.
      const fromHistory = baselineFromHistory(
        series,
        hours,
        this.card.ewmaAlpha,
        `${n} hours of history: too few after the model's first forecast (${MIN_HISTORY} h in) to backtest it ` +
          `on this history (${HISTORY_BACKTEST_MIN_TARGETS} hours, ${MIN_BACKTEST_HOURS} of them with spend, are needed)`,
      );
      if (fromHistory.validation) return fromHistory;
    }
    const report = override
      ? (tested?.reports.find((r) => r.method === override) ?? null)
      : (tested?.reports.find((r) => r.method !== 'ml' || this.model !== null) ?? null);
    const method: ForecastMethod = report?.method ?? carded;
    let points: number[];
    if (method === 'ml') {
      const x = new Float32Array(horizon * F);
      const levels = new Float64Array(horizon);
      for (let h = 1; h <= horizon; h++)
        levels[h - 1] = writeFeatures(series, this.scaler.profile, origin, h, x, (h - 1) * F);
      points = this.predictRows(x, levels, horizon);
    } else {
      points = Array.from({ length: horizon }, (_, i) =>
        baselineForecast(method, series.cost, origin, i + 1, this.card.ewmaAlpha),
      );
    }
    return {
      method,
      hours: points.map((p, i) => ({
        hour: series.start + (origin + 1 + i) * HOUR_MS,
        costUsd: p,
        lowerUsd: report ? Math.max(0, p * (1 + report.interval.lower)) : null,
        upperUsd: report ? p * (1 + report.interval.upper) : null,
      })),
      validation: report,
      validationBasis: report ? 'backtest' : null,
      confidence: report ? confidenceOf(report.metrics) : 0,
      reason: this.servedBecause(method, tested, override),
    };
  }

  /** Why `method` serves, in words: the backtest on this history, next to what the card's validation chose. */
  private servedBecause(method: ForecastMethod, tested: HistoryBacktest | null, override?: ForecastMethod): string {
    const card =
      `the card's validation (on its ${this.card.synthetic ? 'synthetic ' : ''}training data, ` +
      `${this.card.dataSource}) chose ${this.card.served === 'ml' ? 'the model' : this.card.served}`;
    if (!tested) {
      return (
        `${method === 'ml' ? 'the model' : method} serves (${override ? 'as asked' : card}) without a confidence ` +
        `or interval: too little spend in the history's last week to backtest it on this history ` +
        `(${MIN_BACKTEST_HOURS} hours with spend are needed)`
      );
    }
    const served = tested.reports.find((r) => r.method === method);
    const others = tested.reports.filter((r) => r.method !== method).map((r) => `${r.method} ${mapeWords(r)}`);
    const what = method === 'ml' ? 'the model' : method;
    return (
      `${what} serves${override ? ' (as asked)' : ', the lowest error'} in a backtest on this history ` +
      `(${tested.forecasts} forecasts from its last ${tested.origins} hours: MAPE ${served ? mapeWords(served, true) : 'n/a'}` +
      `${others.length ? `; ${others.join(', ')}` : ''}); ${card}`
    );
  }

  /** `backtestOnHistory`, once per history (the ledger's series changes once an hour, or on an import). */
  private backtest(series: HourlySeries): HistoryBacktest | null {
    const n = series.cost.length;
    let total = 0;
    for (const c of series.cost) total += c;
    const key = `${series.source}:${series.start}:${n}:${total}`;
    if (this.tested?.key !== key) {
      const model = this.model ? { profile: this.scaler.profile, predictRows: this.predictRows.bind(this) } : null;
      this.tested = { key, result: backtestOnHistory(series, this.card.ewmaAlpha, model) };
    }
    return this.tested.result;
  }

  /** Writes model.json + weights.bin (file IO handler), scaler.json and, last, card.json. */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (this.model) await this.model.save(fileSaveHandler(dir));
    await writeJson(join(dir, SCALER_JSON), this.scaler);
    await writeJson(join(dir, CARD_JSON), this.card);
  }

  static async load(runtime: TfjsRuntime, dir: string): Promise<CostForecaster> {
    const card = JSON.parse(await readFile(join(dir, CARD_JSON), 'utf8')) as ForecasterCard;
    if (card.kind !== 'cost-forecaster' || card.version !== 2) throw new Error(`${dir}: not a cost-forecaster v2 card`);
    const scaler = JSON.parse(await readFile(join(dir, SCALER_JSON), 'utf8')) as Scaler;
    const mismatch = incompatibility(card, scaler);
    if (mismatch) throw new Error(`${dir}: artifacts of another feature set (${mismatch}); retrain (ml:train cost)`);
    const model = await runtime.tf.loadLayersModel(fileLoadHandler(dir));
    const inputs = (model.inputs[0]?.shape ?? [])[1];
    if (inputs !== F)
      throw new Error(`${dir}: model.json takes ${inputs} inputs, this forecaster builds ${F}; retrain`);
    return new CostForecaster(runtime, model, scaler, card);
  }
}

/**
 * Why a v2 card and its scaler do not fit this code's features, or null. A card of another feature list (a build
 * that added, dropped or reordered one and kept version 2) or a scaler of another length loaded before, and the model
 * read inputs standardised with statistics that were not its own: with a featureMean one short, the service served
 * the model with finite points and confidence 0.92, nothing said.
 */
function incompatibility(card: ForecasterCard, scaler: Scaler): string | null {
  const features = Array.isArray(card.features) ? card.features : [];
  if (features.join(',') !== FEATURE_NAMES.join(','))
    return `card.json's features [${features.join(', ')}], this forecaster's [${FEATURE_NAMES.join(', ')}]`;
  const lengths: [string, unknown, number][] = [
    ['featureMean', scaler.featureMean, F],
    ['featureStd', scaler.featureStd, F],
    ['profile.hour', scaler.profile?.hour, 24],
    ['profile.dow', scaler.profile?.dow, 7],
  ];
  for (const [name, values, expected] of lengths) {
    if (!Array.isArray(values) || values.length !== expected || !values.every((v) => Number.isFinite(v)))
      return `scaler.json's ${name} is not ${expected} finite numbers`;
  }
  if (!Number.isFinite(scaler.targetCentre) || !(scaler.targetScale > 0))
    return "scaler.json's targetCentre and targetScale are not finite numbers";
  return null;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temp, path);
}

/**
 * Trains on the series minus its held-out tail, evaluates the model and the baselines on the tail
 * (rolling origins, every hour, all 24 horizons), and returns the forecaster with its card.
 */
export async function trainCostForecaster(
  runtime: TfjsRuntime,
  series: HourlySeries,
  options: TrainCostOptions = {},
): Promise<CostForecaster> {
  const started = performance.now();
  const n = series.cost.length;
  const validationHours = options.validationHours ?? 14 * 24;
  const trainEnd = n - validationHours; // first validation target
  const firstOrigin = MIN_HISTORY - 1;
  if (trainEnd - MAX_HORIZON - firstOrigin < 7 * 24) {
    throw new NotEnoughHistoryError(
      `${n} hours of data: training needs at least ${firstOrigin + MAX_HORIZON + 7 * 24 + validationHours} ` +
        `(7 days of lags, 7 days to learn from, ${validationHours / 24} days held out)`,
    );
  }
  // A held-out tail without usage (hours padded with zeros after the data stops) would score every method
  // 0 % MAPE and give confidence 1: there is nothing to validate on, so no card.
  const heldOutWithSpend = series.cost.slice(trainEnd).filter((c) => c > 0).length;
  if (heldOutWithSpend < MIN_HELD_OUT_HOURS_WITH_SPEND) {
    throw new NotEnoughHistoryError(
      `the held-out last ${validationHours / 24} days of the ${n} hours (from ${new Date(series.start + trainEnd * HOUR_MS).toISOString()}) ` +
        `hold ${heldOutWithSpend} hours with cost; validation needs at least ${MIN_HELD_OUT_HOURS_WITH_SPEND} ` +
        '(are hours after the data stops padded with zeros? Train on the span the data covers)',
    );
  }
  // Training origins: every target inside the training part. Strided to cap the row count.
  const lastTrainOrigin = trainEnd - 1 - MAX_HORIZON;
  const maxRows = options.maxRows ?? 10_000;
  const available = lastTrainOrigin - firstOrigin + 1;
  const stride = Math.max(1, Math.ceil((available * MAX_HORIZON) / maxRows));
  const train = prepare(series, firstOrigin, lastTrainOrigin, stride);
  const { scaler } = train;
  const profile = scaler.profile;
  const epochs = options.epochs ?? 40;
  const model = await trainNetwork(runtime, train, options.seed ?? 7, epochs, options);

  // Validation: every origin whose 24 targets all fall in the held-out tail.
  const validOrigins: number[] = [];
  for (let o = trainEnd - 1; o + MAX_HORIZON <= n - 1; o++) validOrigins.push(o);
  const valid = buildRows(series, profile, validOrigins);
  const actual: number[] = [];
  for (const o of validOrigins) for (let h = 1; h <= MAX_HORIZON; h++) actual.push(series.cost[o + h]!);
  const scale = naiveScale(series.cost.slice(0, trainEnd), 24);
  const ewmaAlpha = chooseEwmaAlpha(series.cost, firstOrigin, lastTrainOrigin);

  const draft: ForecasterCard = {
    kind: 'cost-forecaster',
    version: 2,
    trainedAt: new Date().toISOString(),
    dataSource: series.source,
    synthetic: series.source === 'synthetic',
    dataSpan: iso(series.start, 0, n),
    validation: { ...iso(series.start, trainEnd, n), origins: validOrigins.length },
    backend: runtime.backend,
    trainingMs: 0,
    epochs,
    trainingRows: train.rows,
    features: [...FEATURE_NAMES],
    ewmaAlpha,
    model: { method: 'ml', metrics: errorMetrics([], [], 1), interval: { lower: 0, upper: 0, coverage: 0 } },
    baselines: [],
    bestBaseline: 'seasonal_naive_24',
    served: 'ml',
    confidence: 0,
  };
  const forecaster = new CostForecaster(runtime, model, scaler, draft);
  const mlPred = forecaster.predictRows(valid.x, valid.levels, valid.rows);
  const report = (method: ForecastMethod, predicted: number[]): MethodReport => ({
    method,
    metrics: errorMetrics(actual, predicted, scale),
    interval: intervalFromResiduals(actual, predicted),
  });
  draft.model = report('ml', mlPred);
  draft.baselines = BASELINES.map((b) => {
    const predicted: number[] = [];
    for (const o of validOrigins)
      for (let h = 1; h <= MAX_HORIZON; h++) predicted.push(baselineForecast(b, series.cost, o, h, ewmaAlpha));
    return report(b, predicted);
  });
  const best = [...draft.baselines].sort((a, b) => a.metrics.mape - b.metrics.mape)[0]!;
  draft.bestBaseline = best.method as BaselineName;
  draft.served = draft.model.metrics.mape < best.metrics.mape ? 'ml' : draft.bestBaseline;
  draft.confidence = confidenceOf((draft.served === 'ml' ? draft.model : best).metrics);
  draft.trainingMs = Math.round(performance.now() - started);
  return forecaster;
}

/**
 * The network: 12 inputs → 16 ReLU → 8 ReLU → 1, L2 weight decay (1e-2) on the hidden layers, Adam at a constant
 * rate, seeded initialisers and shuffling (reproducible). The output weights start at zero: an untrained network
 * predicts the centre, i.e. the seasonal expectation.
 */
async function trainNetwork(
  runtime: TfjsRuntime,
  data: Prepared,
  seed: number,
  epochs: number,
  options: TrainCostOptions,
): Promise<LayersModel> {
  const { tf } = runtime;
  const { x, y, rows } = data;
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 16,
        activation: 'relu',
        inputShape: [F],
        kernelInitializer: tf.initializers.heNormal({ seed }),
        kernelRegularizer: tf.regularizers.l2({ l2: 1e-2 }),
      }),
      tf.layers.dense({
        units: 8,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed + 1 }),
        kernelRegularizer: tf.regularizers.l2({ l2: 1e-2 }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: 'zeros' }),
    ],
  });
  // The loss is the relative error of the cost, |predicted − actual| / (actual + offset · E): the metric the
  // forecaster is judged by (MAPE), so the fit lands on its optimum, a little below the median.
  const scale = data.scaler.targetScale;
  const relativeError = (yTrue: Tensor, yPred: Tensor): Tensor =>
    tf.mean(tf.abs(tf.sub(tf.exp(tf.mul(tf.sub(yPred, yTrue), scale)), 1)));
  model.compile({ optimizer: tf.train.adam(options.learningRate ?? 0.003), loss: relativeError });
  const batchSize = options.batchSize ?? 256;
  const random = seededRandom(seed);
  const order = Array.from({ length: rows }, (_, i) => i);
  const bx = new Float32Array(rows * F);
  const by = new Float32Array(rows);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    order.forEach((row, i) => {
      bx.set(x.subarray(row * F, row * F + F), i * F);
      by[i] = y[row]!;
    });
    const xs = tf.tensor2d(bx, [rows, F]);
    const ys = tf.tensor2d(by, [rows, 1]);
    try {
      const history = await model.fit(xs, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
      options.onEpoch?.(epoch, epochs, Number(history.history.loss?.[0] ?? NaN));
    } finally {
      xs.dispose();
      ys.dispose();
    }
  }
  return model;
}

function iso(start: number, from: number, to: number): { from: string; to: string; hours: number } {
  return {
    from: new Date(start + from * HOUR_MS).toISOString(),
    to: new Date(start + to * HOUR_MS).toISOString(),
    hours: to - from,
  };
}

/** The EWMA smoothing factor with the lowest 1..24 h-ahead MAE on the training part. */
function chooseEwmaAlpha(cost: readonly number[], from: number, to: number): number {
  let best = { alpha: 0.1, mae: Infinity };
  for (const alpha of [0.02, 0.05, 0.1, 0.2, 0.3, 0.5]) {
    let level = cost[0]!;
    let sum = 0;
    let count = 0;
    for (let i = 1; i <= to; i++) {
      level = alpha * cost[i]! + (1 - alpha) * level;
      if (i >= from && i % 6 === 0) {
        for (let h = 1; h <= MAX_HORIZON; h++) {
          sum += Math.abs(cost[i + h]! - level);
          count += 1;
        }
      }
    }
    const mae = sum / Math.max(1, count);
    if (mae < best.mae) best = { alpha, mae };
  }
  return best.alpha;
}
