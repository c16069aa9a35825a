import { HOUR_MS } from '@app/common';
import type { BudgetStatus } from '@app/ledger';
import { judgeBudget } from './budget-judgement';
import type { SpendForecast } from './spend-forecast.port';

const DAY = Date.UTC(2026, 10, 28);
const HALF_PAST_TWO = DAY + 14.5 * HOUR_MS;

function status(spentTodayUsd: number, dailyBudgetUsd: number | null = 5, reservedUsd = 0): BudgetStatus {
  const pct = dailyBudgetUsd === null ? null : (100 * (spentTodayUsd + reservedUsd)) / dailyBudgetUsd;
  const exceeded = dailyBudgetUsd !== null && spentTodayUsd >= dailyBudgetUsd;
  return {
    policy: 'alert',
    dailyBudgetUsd,
    spentTodayUsd,
    reservedUsd,
    utilizationPct: pct,
    risk: exceeded
      ? 'exceeded'
      : pct === null
        ? 'none'
        : pct >= 100
          ? 'critical'
          : pct >= 90
            ? 'high'
            : pct >= 70
              ? 'medium'
              : 'low',
    exceeded,
    resetAt: new Date(DAY + 24 * HOUR_MS).toISOString(),
  };
}

/** $0.3 an hour for 24 h from the current hour (14:00), as the EWMA over two hours of $0.3 forecasts. */
const flat = (confidence: number): SpendForecast => ({
  hourly: new Array<number>(24).fill(0.3),
  startHour: DAY + 14 * HOUR_MS,
  servedBy: 'ewma',
  confidence,
});

describe('judgeBudget: one budget judgement for GET /forecast/cost and POST /insights', () => {
  it('a forecast rated confidence 0 does not make the risk: it rests on the spend so far, and says so (sweep 2, D10)', () => {
    // $0.6 spent by 14:30; the forecast adds half of 14:00 and 15:00..23:00: 0.6 + 9.5 × 0.3 = 3.45 (69 %).
    const judgement = judgeBudget(status(0.6), flat(0), HALF_PAST_TWO);
    expect(judgement).toMatchObject({
      risk: 'low',
      projectedDayUsd: 3.45,
      projectionCounted: false,
      predictedBreach: null,
    });
    expect(judgement.riskBasis).toBe(
      'spend so far $0.6 of the $5 daily budget: 12 %; the risk rests on that alone: the ewma forecast has no ' +
        'validated confidence (0), so its projection (spend so far plus the ewma forecast for the rest of the UTC ' +
        'day: $3.45, 69 %) is not counted',
    );
    // A projection past the budget, untrusted, still does not: no "critical" and no breach from it.
    expect(judgeBudget(status(0.6, 2), flat(0), HALF_PAST_TWO)).toMatchObject({ risk: 'low', predictedBreach: null });
  });

  it('a forecast with a validated confidence counts: the risk of the projected day, and a breach when it reaches the budget', () => {
    expect(judgeBudget(status(0.6), flat(0.52), HALF_PAST_TWO)).toMatchObject({
      risk: 'low',
      projectedDayUsd: 3.45,
      projectionCounted: true,
      predictedBreach: null,
    });
    const tight = judgeBudget(status(0.6, 3), flat(0.52), HALF_PAST_TWO);
    // 0.6 + 0.15 (rest of 14:00) + 0.3 × 8 (15:00..22:00) = 3.15 ≥ 3 at the end of 22:00.
    expect(tight).toMatchObject({
      risk: 'critical',
      projectedDayUsd: 3.45,
      predictedBreach: {
        projectedDayUsd: 3.45,
        dailyBudgetUsd: 3,
        breachAt: new Date(DAY + 23 * HOUR_MS).toISOString(),
        servedBy: 'ewma',
        forecastConfidence: 0.52,
      },
    });
    expect(tight.riskBasis).toBe(
      'spend so far plus the ewma forecast for the rest of the UTC day: $3.45, 115 % (forecast confidence 0.52); ' +
        'spend so far $0.6 of the $3 daily budget: 20 %',
    );
  });

  it('counts what is left of the current hour only, and no hour of tomorrow', () => {
    const start = DAY + 23 * HOUR_MS;
    const forecast: SpendForecast = { hourly: [1, 1, 1], startHour: start, servedBy: 'ml', confidence: 0.9 };
    expect(judgeBudget(status(0), forecast, start + 0.75 * HOUR_MS).projectedDayUsd).toBe(0.25);
    // A forecast read before the hour turned (20:00 on, read at 21:30): its past hour counts for nothing.
    const earlier = { ...forecast, startHour: DAY + 20 * HOUR_MS };
    expect(judgeBudget(status(0), earlier, DAY + 21.5 * HOUR_MS).projectedDayUsd).toBe(1.5);
  });

  it('an exceeded budget is a fact: exceeded, with no breach predicted, whatever the forecast', () => {
    const judgement = judgeBudget(status(6), flat(0.9), HALF_PAST_TWO);
    expect(judgement).toMatchObject({ risk: 'exceeded', predictedBreach: null });
    expect(judgement.riskBasis).toBe(
      'the budget is exceeded: spend so far $6 of the $5 daily budget: 120 % (a fact, no forecast needed)',
    );
  });

  it('spend and reservations alone without a forecast; none without a budget', () => {
    const judgement = judgeBudget(status(4, 5, 0.6), null, HALF_PAST_TWO);
    expect(judgement).toMatchObject({ risk: 'high', projectedDayUsd: null, predictedBreach: null });
    expect(judgement.riskBasis).toBe(
      'spend so far $4 (+ $0.6 reserved by calls in flight) of the $5 daily budget: 92 %; no forecast serves yet, ' +
        'so the risk rests on the spend so far',
    );
    expect(judgeBudget(status(4, null), flat(0.9), HALF_PAST_TWO)).toMatchObject({
      risk: 'none',
      riskBasis: 'no daily budget (DAILY_BUDGET_USD unset)',
    });
  });
});
