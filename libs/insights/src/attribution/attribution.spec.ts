import { HOUR_MS } from '@app/common';
import { emptyHourly, type HourlyUsage, type UsageDimension } from '@app/ledger';
import type { AnomalyMetric } from '../dto/anomaly-attribution.dto';
import { attributeAnomaly, attributionWindows } from './attribution';

const T = Date.UTC(2026, 2, 10, 14, 30); // the anomaly: 14:30 UTC; analysis window 14:00-15:00
const NOW = Date.UTC(2026, 2, 10, 18, 0);
const MODELS = [
  { model: 'gemini-flash', provider: 'vertex' },
  { model: 'gemini-pro', provider: 'vertex' },
  { model: 'gpt-small', provider: 'openai' },
];
const ENDPOINTS = ['qa', 'reason', 'stress'];

interface Cell {
  requests: number;
  latencyMs: number;
  errorRate: number;
  costPerRequest: number;
  quality: number;
}
type Shape = (hour: number, endpoint: string, model: string, inAnalysis: boolean) => Cell;

/** Leaf rows (hour × endpoint × provider × model) for the 24 baseline hours and the analysis hour. */
function leafRows(shape: Shape): HourlyUsage[] {
  const { baselineStart, analysisEnd, analysisStart } = attributionWindows(T, 24, 1);
  const rows: HourlyUsage[] = [];
  for (let h = baselineStart; h < analysisEnd; h += HOUR_MS) {
    for (const endpoint of ENDPOINTS)
      for (const { model, provider } of MODELS) {
        const c = shape(h, endpoint, model, h >= analysisStart);
        if (c.requests === 0) continue;
        rows.push({
          ...emptyHourly(h, endpoint, provider, model),
          requests: c.requests,
          errors: Math.round(c.requests * c.errorRate),
          costUsd: c.requests * c.costPerRequest,
          latencyMsSum: c.requests * c.latencyMs,
          latencyCount: c.requests,
          qualitySum: c.requests * c.quality,
          qualityCount: c.requests,
        });
      }
  }
  return rows;
}

/** What `UsageLedger.hourly({groupBy})` returns: the leaves summed, the other dimensions `*`. */
function grouped(rows: readonly HourlyUsage[], keep: UsageDimension[]): HourlyUsage[] {
  const out = new Map<string, HourlyUsage>();
  for (const r of rows) {
    const dims = { endpoint: '*', provider: '*', model: '*' };
    for (const d of keep) dims[d] = r[d];
    const key = `${r.hour}|${dims.endpoint}|${dims.provider}|${dims.model}`;
    let acc = out.get(key);
    if (!acc) out.set(key, (acc = emptyHourly(r.hour, dims.endpoint, dims.provider, dims.model)));
    for (const k of [
      'requests',
      'errors',
      'errorsUnknown',
      'costUsd',
      'latencyMsSum',
      'latencyCount',
      'qualitySum',
      'qualityCount',
      'fallbacks',
    ] as const)
      acc[k] += r[k];
  }
  return [...out.values()];
}

function attribute(metric: AnomalyMetric, rows: HourlyUsage[], anomalyAt = T) {
  return attributeAnomaly({
    metric,
    anomalyAt,
    baselineHours: 24,
    analysisHours: 1,
    now: NOW,
    total: grouped(rows, []),
    byDimension: {
      endpoint: grouped(rows, ['endpoint']),
      provider: grouped(rows, ['provider']),
      model: grouped(rows, ['model']),
    },
  });
}

/** A steady service with a little hourly wobble (deterministic), so the baseline has a variation. */
const steady: Shape = (hour) => {
  const wobble = 1 + 0.05 * Math.sin(hour / HOUR_MS);
  return { requests: 20, latencyMs: 400 * wobble, errorRate: 0.05, costPerRequest: 0.002, quality: 0.8 };
};

describe('anomaly attribution', () => {
  it('finds the planted cause: one model latency ×3 in the analysis window', () => {
    const rows = leafRows((h, e, m, inAnalysis) => {
      const c = steady(h, e, m, inAnalysis);
      return inAnalysis && m === 'gemini-pro' ? { ...c, latencyMs: c.latencyMs * 3 } : c;
    });
    const report = attribute('latency', rows);
    expect(report.status).toBe('ok');
    expect(report.primaryCause).toMatchObject({ dimension: 'model', value: 'gemini-pro' });
    expect(report.primaryCause!.contributionPct).toBeGreaterThan(60);
    expect(report.primaryCause!.changePct).toBeGreaterThan(190); // ×3 of a wobbling baseline mean
    // A third of the requests, about 100 % of the change: 2/3 of it beyond its size.
    expect(report.primaryCause!.excessPct).toBeGreaterThan(60);
    expect(report.change!.percent).toBeGreaterThan(60);
    expect(report.change!.direction).toBe('worse');
    expect(report.severity).toBe('medium');
    expect(report.summary).toMatch(/Primary cause: model gemini-pro/);
    // Endpoints carry it in proportion to their size: not causes.
    for (const item of report.breakdown.endpoint) expect(Math.abs(item.excessPct)).toBeLessThan(5);
    expect(report.contributingFactors.map((f) => `${f.dimension}:${f.value}`)).toEqual(['provider:vertex']);
    expect(report.confidence).toBeGreaterThan(0.5);
    expect(report.confidence).toBeLessThanOrEqual(1);
  });

  it("says when the model named as the cause answered fallbacks: their latency is the failed model's", () => {
    // gemini-pro fails its attempts in the analysis hour and its calls fall back to gemini-flash: each is one row under
    // gemini-flash with the failed attempts and the backoff in its latency. The attribution names gemini-flash, the
    // model the ledger charged; the note says part of it may be the model that failed first.
    const rows = leafRows((h, e, m, inAnalysis) => {
      const c = steady(h, e, m, inAnalysis);
      return inAnalysis && m === 'gemini-flash' ? { ...c, requests: 40, latencyMs: c.latencyMs * 3 } : c;
    });
    for (const row of rows)
      if (row.hour === Date.UTC(2026, 2, 10, 14) && row.model === 'gemini-flash') row.fallbacks = 20;
    const report = attribute('latency', rows);
    expect(report.primaryCause).toMatchObject({ dimension: 'model', value: 'gemini-flash' });
    const note = report.notes.find((n) => n.startsWith('fallbacks:'));
    expect(note).toBe(
      'fallbacks: 60 of the 120 calls recorded under model gemini-flash in the analysis window reached it after ' +
        'another model of their chain failed (fallback_used); the ledger records such a call under the model that ' +
        "answered it, with the failed model's latency, retries and billed attempts, so part of this change may be " +
        "that model's (POST /insights names it).",
    );
    // The quality of an answer is the answering model's own; and without fallbacks, no note.
    expect(attribute('quality', rows).notes.some((n) => n.startsWith('fallbacks:'))).toBe(false);
    for (const row of rows) row.fallbacks = 0;
    expect(attribute('latency', rows).notes.some((n) => n.startsWith('fallbacks:'))).toBe(false);
  });

  it.each<AnomalyMetric>(['cost', 'latency', 'errors', 'quality'])(
    '%s: the effects of each dimension add up to the total change',
    (metric) => {
      const rows = leafRows((h, e, m, inAnalysis) => {
        const seed = (h / HOUR_MS + e.length * 7 + m.length * 13) % 11;
        return {
          requests: 5 + seed + (inAnalysis && m === 'gpt-small' ? 30 : 0),
          latencyMs: 300 + 40 * seed,
          errorRate: seed / 40,
          costPerRequest: 0.001 * (1 + (seed % 3)),
          quality: 0.5 + seed / 40,
        };
      });
      const report = attribute(metric, rows);
      for (const dim of ['model', 'provider', 'endpoint'] as const) {
        const sum = report.breakdown[dim].reduce((s, i) => s + i.effect, 0);
        expect(sum).toBeCloseTo(report.change!.absolute, 3);
        const pcts = report.breakdown[dim].reduce((s, i) => s + i.contributionPct, 0);
        expect(pcts).toBeCloseTo(100, 0);
      }
    },
  );

  it('names no single cause when every segment changed alike', () => {
    const rows = leafRows((h, e, m, inAnalysis) => {
      const c = steady(h, e, m, inAnalysis);
      return inAnalysis ? { ...c, latencyMs: c.latencyMs * 2 } : c;
    });
    const report = attribute('latency', rows);
    expect(report.change!.percent).toBeGreaterThan(80);
    expect(report.primaryCause).toBeNull();
    expect(report.summary).toMatch(/No single cause/);
  });

  it('cost: one request type costing 4× is the primary cause, in $/h', () => {
    const rows = leafRows((h, e, m, inAnalysis) => {
      const c = steady(h, e, m, inAnalysis);
      return inAnalysis && e === 'stress' ? { ...c, costPerRequest: c.costPerRequest * 4 } : c;
    });
    const report = attribute('cost', rows);
    // Baseline 9 series × 20 requests × $0.002 = $0.36/h; stress ×4 adds 3 × 20 × 3 × 0.002 = $0.36/h.
    expect(report.baseline.value).toBeCloseTo(0.36, 6);
    expect(report.analysis.value).toBeCloseTo(0.72, 6);
    expect(report.primaryCause).toMatchObject({ dimension: 'endpoint', value: 'stress', contributionPct: 100 });
    expect(report.primaryCause!.rateEffect).toBeNull();
    expect(report.severity).toBe('medium'); // +100 %, not > 100
  });

  it('errors: a burst on one model, severity by the rate change in points', () => {
    const rows = leafRows((h, e, m, inAnalysis) => {
      const c = steady(h, e, m, inAnalysis);
      return inAnalysis && m === 'gpt-small' ? { ...c, errorRate: 0.5 } : c;
    });
    const report = attribute('errors', rows);
    expect(report.primaryCause).toMatchObject({ dimension: 'model', value: 'gpt-small' });
    // 0.05 → (0.05 + 0.05 + 0.5) / 3 = 0.2: +15 points.
    expect(report.change!.absolute).toBeCloseTo(0.15, 2);
    expect(report.severity).toBe('high');
  });

  it('quality: a drop on one endpoint; an improvement has severity none', () => {
    const drop = attribute(
      'quality',
      leafRows((h, e, m, a) => ({ ...steady(h, e, m, a), quality: a && e === 'qa' ? 0.2 : 0.8 })),
    );
    expect(drop.change!.direction).toBe('worse');
    expect(drop.primaryCause).toMatchObject({ dimension: 'endpoint', value: 'qa' });
    const rise = attribute(
      'quality',
      leafRows((h, e, m, a) => ({ ...steady(h, e, m, a), quality: a && e === 'qa' ? 0.95 : 0.8 })),
    );
    expect(rise.change!.direction).toBe('better');
    expect(rise.severity).toBe('none');
  });

  it('a shift of traffic to a slow model shows as mix, not rate (credited to the gainer and the losers)', () => {
    const rows = leafRows((h, e, m, inAnalysis) => ({
      ...steady(h, e, m, inAnalysis),
      latencyMs: m === 'gpt-small' ? 1200 : 400,
      requests: inAnalysis && m === 'gpt-small' ? 80 : 20,
    }));
    const report = attribute('latency', rows);
    const slow = report.breakdown.model.find((i) => i.value === 'gpt-small')!;
    expect(slow.rateEffect).toBeCloseTo(0, 6);
    expect(slow.mixEffect!).toBeGreaterThan(0);
    expect(slow.contributionPct).toBeCloseTo(50, 0);
    for (const item of report.breakdown.model) expect(item.rateEffect).toBeCloseTo(0, 6);
  });

  it('confidence comes from the data: fewer requests, lower confidence', () => {
    const planted =
      (requests: number): Shape =>
      (h, e, m, a) => {
        const c = { ...steady(h, e, m, a), requests };
        return a && m === 'gemini-pro' ? { ...c, latencyMs: c.latencyMs * 3 } : c;
      };
    const many = attribute('latency', leafRows(planted(20))).confidence!;
    const few = attribute('latency', leafRows(planted(1))).confidence!;
    expect(few).toBeLessThan(many);
    expect(few).toBeGreaterThan(0);
  });

  it('with no data says so, with null figures and no cause', () => {
    const report = attribute('latency', []);
    expect(report).toMatchObject({
      status: 'no_data',
      change: null,
      severity: null,
      confidence: null,
      primaryCause: null,
      contributingFactors: [],
      breakdown: { model: [], provider: [], endpoint: [] },
    });
    expect(report.baseline).toMatchObject({ value: null, requests: 0 });
    expect(report.analysis).toMatchObject({ value: null, requests: 0 });
    expect(report.summary).toMatch(/no usage in the baseline window or the analysis window/);
  });

  it('with a baseline but an empty analysis window says which window is empty', () => {
    const rows = leafRows((h, e, m, a) => ({ ...steady(h, e, m, a), requests: a ? 0 : 20 }));
    const report = attribute('cost', rows);
    expect(report.status).toBe('no_data');
    expect(report.baseline.requests).toBeGreaterThan(0);
    expect(report.summary).toMatch(/no usage in the analysis window:/);
    expect(attribute('latency', rows, NOW + 5 * HOUR_MS).summary).toMatch(/analysis window \(future\)/);
  });

  it('quality with no scored requests is no data, not a score of 0', () => {
    const rows = leafRows((h, e, m, a) => steady(h, e, m, a)).map((r) => ({ ...r, qualitySum: 0, qualityCount: 0 }));
    expect(attribute('quality', rows)).toMatchObject({ status: 'no_data', confidence: null });
  });

  it('latency is the mean of the timed calls: imported hours (requests, no latency) are not 0 ms calls', () => {
    // `ledger:import` writes hourly requests and cost without latency (it has no such column). Before, their requests
    // counted as calls of 0 ms: a baseline of imported hours read 0 ms, and the first recorded hour a "critical"
    // latency spike; a baseline half imported read half the real latency.
    const { analysisStart } = attributionWindows(T, 24, 1);
    const imported = (h: number): boolean => h < analysisStart - 12 * HOUR_MS;
    const recorded = leafRows((h, e, m, a) => ({ ...steady(h, e, m, a), latencyMs: 300 }));
    const mixed = recorded.map((r) =>
      imported(r.hour) ? { ...r, latencyMsSum: 0, latencyCount: 0, qualitySum: 0, qualityCount: 0 } : r,
    );

    const report = attribute('latency', mixed);
    expect(report.status).toBe('ok');
    expect(report.baseline.value).toBeCloseTo(300, 6);
    expect(report.analysis.value).toBeCloseTo(300, 6);
    expect(report.severity).toBe('none');
    const timed = recorded.filter((r) => r.hour < analysisStart && !imported(r.hour));
    expect(report.baseline.sampleSize).toBe(timed.reduce((n, r) => n + r.requests, 0));
    expect(report.baseline.requests).toBeGreaterThan(report.baseline.sampleSize);
    for (const item of report.breakdown.model) expect(item.baselineValue).toBeCloseTo(300, 6);

    // A baseline of imported hours only has no latency at all: no data, not a spike up from 0 ms.
    const allImported = recorded.map((r) => (r.hour < analysisStart ? { ...r, latencyMsSum: 0, latencyCount: 0 } : r));
    expect(attribute('latency', allImported)).toMatchObject({ status: 'no_data', severity: null, change: null });
    expect(attribute('latency', allImported).summary).toMatch(
      /no timed calls \(imported usage carries no latency\) in the baseline window:/,
    );
  });

  it('errors: imported hours without an error count are unknown, not 0 % errors', () => {
    // `ledger:import` of a file with no `errors` column: its requests' errors are unknown (`errorsUnknown`). Before,
    // they read as requests without errors: a baseline of such hours read 0 %, and the first recorded hour at the
    // service's usual 5 % a "critical" error burst; a baseline half imported read half the real rate.
    const { analysisStart } = attributionWindows(T, 24, 1);
    const imported = (h: number): boolean => h < analysisStart - 12 * HOUR_MS;
    const recorded = leafRows((h, e, m, a) => steady(h, e, m, a));
    const unknown = (r: HourlyUsage): HourlyUsage => ({ ...r, errors: 0, errorsUnknown: r.requests });
    const mixed = recorded.map((r) => (imported(r.hour) ? unknown(r) : r));

    const report = attribute('errors', mixed);
    expect(report.status).toBe('ok');
    expect(report.baseline.value).toBeCloseTo(report.analysis.value!, 6);
    expect(report.severity).toBe('none');
    const known = recorded.filter((r) => r.hour < analysisStart && !imported(r.hour));
    expect(report.baseline.sampleSize).toBe(known.reduce((n, r) => n + r.requests, 0));
    expect(report.baseline.requests).toBeGreaterThan(report.baseline.sampleSize);

    // A baseline of such hours only has no error rate: no data, not a burst up from 0 %.
    const allImported = recorded.map((r) => (r.hour < analysisStart ? unknown(r) : r));
    expect(attribute('errors', allImported)).toMatchObject({ status: 'no_data', severity: null, change: null });
    expect(attribute('errors', allImported).summary).toMatch(
      /no requests with a known error count \(imported usage without an errors column\) in the baseline window:/,
    );
  });

  it('says what a `*` in the breakdown is (usage whose value is not known), only when one is there', () => {
    // Imported usage without a provider column reads provider `*`: before, the answer named "provider *" as a cause
    // with no word on what it was.
    const rows = leafRows((h, e, m, a) => steady(h, e, m, a)).map((r) => ({ ...r, provider: '*' }));
    const report = attribute('cost', rows);
    expect(report.breakdown.provider.map((item) => item.value)).toEqual(['*']);
    expect(report.notes).toContain(
      '*: usage whose provider is not known (imported usage without that column, or a Datadog import, per model only); not a value of that name.',
    );
    const named = attribute(
      'cost',
      leafRows((h, e, m, a) => steady(h, e, m, a)),
    );
    expect(named.notes.some((note) => note.startsWith('*:'))).toBe(false);
  });

  it("cost: the baseline starts at the ledger's first usage, when that is inside it (no $0 hours before it)", () => {
    const { analysisStart } = attributionWindows(T, 24, 1);
    const since = analysisStart - 3 * HOUR_MS;
    const rows = leafRows((h, e, m, a) => ({ ...steady(h, e, m, a), requests: h >= since ? 20 : 0 }));
    const input = {
      metric: 'cost' as const,
      anomalyAt: T,
      baselineHours: 24,
      analysisHours: 1,
      now: NOW,
      total: grouped(rows, []),
      byDimension: {
        endpoint: grouped(rows, ['endpoint']),
        provider: grouped(rows, ['provider']),
        model: grouped(rows, ['model']),
      },
    };
    // Read as 21 idle hours, a flat cost is a critical spike (what a fresh deployment's first day showed).
    expect(attributeAnomaly(input).severity).toBe('critical');
    const report = attributeAnomaly({ ...input, historyFrom: since });
    expect(report.baseline).toMatchObject({ start: new Date(since).toISOString(), elapsedHours: 3, hoursWithData: 3 });
    expect(Math.abs(report.change!.percent!)).toBeLessThan(10);
    expect(report.severity).toBe('none');
    expect(report.notes.join(' ')).toMatch(/the baseline is the 3 hours from then, not the 24 asked/);
    // A ledger that begins in the analysis window has no baseline.
    expect(attributeAnomaly({ ...input, historyFrom: analysisStart }).status).toBe('no_data');
  });

  it('the analysis window is the hours ending with the hour of the anomaly; the baseline the hours before', () => {
    const w = attributionWindows(Date.UTC(2026, 0, 1, 10, 45), 24, 3);
    expect(new Date(w.analysisStart).toISOString()).toBe('2026-01-01T08:00:00.000Z');
    expect(new Date(w.analysisEnd).toISOString()).toBe('2026-01-01T11:00:00.000Z');
    expect(new Date(w.baselineStart).toISOString()).toBe('2025-12-31T08:00:00.000Z');
  });
});
