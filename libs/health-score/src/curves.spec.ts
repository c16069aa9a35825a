import {
  answerFlagCurve,
  budgetCurve,
  costPerRequestCurve,
  KNEES,
  meanQualityCurve,
  performanceCurve,
  reliabilityCurve,
  securityCurve,
  smoothstep,
} from './curves';

/** Each curve, its direction, and an input range well past both knees. */
const CURVES: [name: string, f: (x: number) => number, direction: -1 | 1, range: [number, number]][] = [
  ['performance (p95 / SLO)', performanceCurve, -1, [0, 10]],
  ['reliability', reliabilityCurve, -1, [0, 3]],
  ['cost per request', costPerRequestCurve, -1, [0, 10]],
  ['budget pace', budgetCurve, -1, [0, 10]],
  ['mean quality', meanQualityCurve, 1, [0, 1]],
  ['answer flag rate', answerFlagCurve, -1, [0, 1]],
  ['security', securityCurve, -1, [0, 3]],
];

// The largest slope of 100 × smoothstep over a knee span w is 150 / w: a step of ε moves the score at most that much.
const maxSlope = (span: number): number => 150 / span;
const SPANS: Record<string, number> = {
  'performance (p95 / SLO)': KNEES.latencyRatio[1] - KNEES.latencyRatio[0],
  reliability: KNEES.unreliability[1] - KNEES.unreliability[0],
  'cost per request': KNEES.costRatio[1] - KNEES.costRatio[0],
  'budget pace': KNEES.budgetPace[1] - KNEES.budgetPace[0],
  'mean quality': KNEES.meanQuality[1] - KNEES.meanQuality[0],
  'answer flag rate': KNEES.answerFlagRate[1] - KNEES.answerFlagRate[0],
  security: KNEES.insecurity[1] - KNEES.insecurity[0],
};

describe('health score curves', () => {
  it('smoothstep is 0 below 0, 1 above 1, and 3t² − 2t³ between', () => {
    expect(smoothstep(-1)).toBe(0);
    expect(smoothstep(Number.NaN)).toBe(0);
    expect(smoothstep(0.5)).toBe(0.5);
    expect(smoothstep(2)).toBe(1);
  });

  describe.each(CURVES)('%s', (name, f, direction, [lo, hi]) => {
    const steps = 200_000;
    const grid = Array.from({ length: steps + 1 }, (_, i) => lo + ((hi - lo) * i) / steps);

    it('stays in [0, 100] and reaches both ends over its range', () => {
      const values = grid.map(f);
      expect(values.reduce((a, b) => Math.min(a, b), Infinity)).toBe(0);
      expect(values.reduce((a, b) => Math.max(a, b), -Infinity)).toBe(100);
    });

    it('is monotone over the whole range (a dense grid)', () => {
      let violations = 0;
      for (let i = 1; i < grid.length; i++) if (direction * (f(grid[i]!) - f(grid[i - 1]!)) < 0) violations += 1;
      expect(violations).toBe(0);
    });

    it('is continuous: a step of ε moves it by at most its largest slope × ε, everywhere', () => {
      const eps = 1e-6;
      const bound = maxSlope(SPANS[name]!) * eps * 1.000001 + 1e-9;
      const xs = [...grid, ...Array.from({ length: 5000 }, () => lo + Math.random() * (hi - lo))];
      const worst = xs.reduce((m, x) => Math.max(m, Math.abs(f(x + eps) - f(x))), 0);
      expect(worst).toBeLessThanOrEqual(bound);
      expect(worst).toBeGreaterThan(0);
    });
  });

  it('has no jump where the origin had one (1499/1500 ms with a 2000 ms SLO; $0.0999/$0.1 with $0.01)', () => {
    const p = (ms: number): number => performanceCurve(ms / 2000);
    expect(Math.abs(p(1500) - p(1499))).toBeLessThan(0.1);
    expect(Math.abs(p(1000) - p(999))).toBeLessThan(0.1);
    expect(Math.abs(p(500) - p(499))).toBeLessThan(0.1);
    const c = (usd: number): number => costPerRequestCurve(usd / 0.01);
    expect(Math.abs(c(0.1) - c(0.0999))).toBeLessThan(0.1);
    expect(Math.abs(c(0.01) - c(0.00999))).toBeLessThan(0.1);
    expect(p(1499)).toBeGreaterThanOrEqual(p(1500));
  });
});
