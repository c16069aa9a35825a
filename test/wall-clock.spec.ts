import { pinWallClock, withinOneUtcDay } from './support/wall-clock';

describe('withinOneUtcDay: a measurement of today that a midnight crossed is made again on the new day', () => {
  afterEach(() => jest.useRealTimers());
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  it('runs once within a day, again (attempt 2) when midnight came while it ran', async () => {
    pinWallClock(Date.UTC(2026, 5, 15, 12));
    const attempts: number[] = [];
    expect(await withinOneUtcDay((attempt) => Promise.resolve(attempts.push(attempt)))).toBe(1);
    expect(attempts).toEqual([1]);

    pinWallClock(Date.UTC(2026, 5, 16) - 20); // 20 ms before midnight, running on in real time
    const days: string[] = [];
    const result = await withinOneUtcDay(async (attempt) => {
      days.push(new Date().toISOString().slice(0, 10));
      await sleep(60); // midnight comes while the first run waits
      return attempt;
    });
    expect(result).toBe(2);
    expect(days).toEqual(['2026-06-15', '2026-06-16']);
  });
});
