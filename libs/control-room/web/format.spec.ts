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
  normaliseStatus,
  openIncidents,
  STATUS_COLOURS,
  windowSpan,
  statusColour,
  statusLabel,
  statusOfScore,
} from './format';

/** WCAG 2 contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string): number => {
    const [r, g, bl] = [1, 3, 5]
      .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('control room formatting', () => {
  it('classifies a score by the API thresholds (healthy ≥ 80, degraded ≥ 60, else critical; null: no data)', () => {
    expect(statusOfScore(100)).toBe('healthy');
    expect(statusOfScore(80)).toBe('healthy');
    expect(statusOfScore(79.99)).toBe('degraded');
    expect(statusOfScore(60)).toBe('degraded');
    expect(statusOfScore(59.9)).toBe('critical');
    expect(statusOfScore(0)).toBe('critical');
    expect(statusOfScore(null)).toBe('no_data');
    expect(statusOfScore(Number.NaN)).toBe('no_data');
    expect(normaliseStatus('degraded', 95)).toBe('degraded');
    expect(normaliseStatus('weird', 95)).toBe('healthy');
    expect(normaliseStatus(undefined, null)).toBe('no_data');
    expect(statusLabel('no_data')).toBe('no data');
  });

  it('gives every status a distinct colour readable as text on white and under white text (WCAG AA, 4.5:1)', () => {
    const colours = Object.values(STATUS_COLOURS);
    expect(new Set(colours).size).toBe(colours.length);
    for (const colour of colours) expect(contrast(colour, '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(statusColour('critical')).toBe(STATUS_COLOURS.critical);
  });

  it('formats scores, counts, rates, percentages, durations and confidences, with a dash for no value', () => {
    expect(formatScore(93.917)).toBe('93.9');
    expect(formatScore(null)).toBe('—');
    expect(formatCount(12345.4)).toBe('12,345');
    expect(formatRate(0)).toBe('0 %');
    expect(formatRate(0.0025)).toBe('0.25 %');
    expect(formatRate(0.125)).toBe('12.5 %');
    expect(formatRate(undefined)).toBe('—');
    expect(formatPercent(5)).toBe('5.0 %');
    expect(formatPercent(82.4)).toBe('82 %');
    expect(formatMs(349.6)).toBe('350 ms');
    expect(formatMs(1250)).toBe('1.25 s');
    expect(formatMs(12_345)).toBe('12.3 s');
    expect(formatMs(null)).toBe('—');
    expect(formatConfidence(0.854)).toBe('85 %');
  });

  it('formats dollars with the decimals a small amount needs', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(12.345)).toBe('$12.35');
    expect(formatUsd(1234.5)).toBe('$1,234.50');
    expect(formatUsd(0.5)).toBe('$0.50');
    expect(formatUsd(0.0042)).toBe('$0.0042');
    expect(formatUsd(0.000012)).toBe('$0.000012');
    expect(formatUsd(-2)).toBe('-$2.00');
    expect(formatUsd(null)).toBe('—');
  });

  it('measures spend against a budget, clamped for the meter, and says when it is over', () => {
    expect(budgetUse(5, 10)).toEqual({ share: 0.5, over: false });
    expect(budgetUse(15, 10)).toEqual({ share: 1, over: true });
    expect(budgetUse(5, null)).toEqual({ share: null, over: false });
    expect(budgetUse(5, 0)).toEqual({ share: null, over: false });
  });

  it('says how long ago something happened', () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    expect(formatAge('2026-12-06T11:59:48Z', now)).toBe('12 s ago');
    expect(formatAge('2026-12-06T11:57:00Z', now)).toBe('3 min ago');
    expect(formatAge('2026-12-06T10:00:00Z', now)).toBe('2 h ago');
    expect(formatAge('2026-12-04T12:00:00Z', now)).toBe('2 d ago');
    expect(formatAge('not a date', now)).toBe('—');
  });

  it('orders recommendations by priority, then confidence', () => {
    const ordered = byPriority([
      { title: 'a', priority: 'low', confidence: 0.9 },
      { title: 'b', priority: 'critical', confidence: 0.2 },
      { title: 'c', priority: 'high', confidence: 0.5 },
      { title: 'd', priority: 'high', confidence: 0.7 },
    ]);
    expect(ordered.map((r) => r.title)).toEqual(['b', 'd', 'c', 'a']);
  });

  it("shares the router's decisions by model, largest first", () => {
    expect(
      decisionShares([
        { model: 'flash', count: 1 },
        { model: 'pro', count: 3 },
      ]),
    ).toEqual([
      { model: 'pro', count: 3, share: 0.75 },
      { model: 'flash', count: 1, share: 0.25 },
    ]);
    expect(decisionShares([{ model: 'x', count: 0 }])).toEqual([{ model: 'x', count: 0, share: 0 }]);
  });

  it('lists each open incident once from its outbox rows, however many re-alerts follow its create', () => {
    const row = (id: string, ref: string, kind: string, extra: Record<string, unknown> = {}) => ({
      outbox_id: id,
      incident_ref: ref,
      kind,
      state: 'pending',
      incident_state: 'open',
      title: `incident ${ref}`,
      severity: 'SEV-2',
      alert_count: 3,
      created_at: `2026-12-07T04:00:0${id.length}.000Z`,
      ...extra,
    });
    // Newest first, as GET /incidents lists them: the flapping monitor's updates before every create.
    const rows = [
      row('aaaa', 'a', 'update', { alert_count: 9 }),
      row('aaa', 'a', 'update'),
      row('aa', 'a', 'create', { state: 'delivered' }),
      row('b', 'b', 'create', { incident_state: 'resolved' }),
      row('c', 'c', 'create', { incident_state: 'superseded' }),
      row('d', 'd', 'create', { incident_state: null }),
      row('e', 'e', 'create', { incident_state: null, state: 'failed' }),
    ];
    expect(openIncidents(rows)).toEqual([
      {
        ref: 'a',
        title: 'incident a',
        severity: 'SEV-2',
        state: 'pending',
        alertCount: 9,
        openedAt: '2026-12-07T04:00:02.000Z',
        lastAt: '2026-12-07T04:00:04.000Z',
      },
      expect.objectContaining({ ref: 'd', openedAt: '2026-12-07T04:00:01.000Z' }),
    ]);
    // Only its updates read (its create on an older page): still listed, without an opening time.
    expect(openIncidents(rows.slice(0, 2))).toEqual([expect.objectContaining({ ref: 'a', openedAt: null })]);
    expect(openIncidents([])).toEqual([]);
  });

  it('names a window by the length the API reports, for "the last ..."', () => {
    expect(windowSpan(300_000)).toBe('5 minutes');
    expect(windowSpan(3_600_000)).toBe('hour');
    expect(windowSpan(5_400_000)).toBe('90 minutes');
    expect(windowSpan(7_200_000)).toBe('2 hours');
    expect(windowSpan(60_000)).toBe('minute');
    expect(windowSpan(10_000)).toBe('10 seconds');
    expect(windowSpan(1_500)).toBe('1.5 seconds');
    expect(windowSpan(null)).toBeNull();
    expect(windowSpan(0)).toBeNull();
  });
});
