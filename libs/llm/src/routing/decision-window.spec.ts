import { DecisionWindow } from './decision-window';

describe('DecisionWindow', () => {
  it('counts decisions by model and reason over the last hour and forgets older minutes', () => {
    let now = 1_000 * 60_000;
    const window = new DecisionWindow(() => now);
    window.add('lite', 'rules');
    window.add('lite', 'exploration');
    now += 30 * 60_000;
    window.add('pro', 'rules');
    expect(window.counts()).toEqual({
      windowS: 3600,
      total: 3,
      byModel: [
        { model: 'lite', count: 2, byReason: { rules: 1, exploration: 1 } },
        { model: 'pro', count: 1, byReason: { rules: 1 } },
      ],
    });
    now += 31 * 60_000; // the first minute is now more than an hour old
    expect(window.counts().byModel).toEqual([{ model: 'pro', count: 1, byReason: { rules: 1 } }]);
    now += 60 * 60_000;
    window.add('flash', 'cheapest_meeting_constraints'); // old buckets are dropped as new ones start
    expect(window.counts()).toMatchObject({ total: 1, byModel: [{ model: 'flash', count: 1 }] });
  });
});
