import { utcDayStart } from '@app/common';

/**
 * Pins the wall clock of this test process (and of an app created in it) to `at`, from where it runs on in real time:
 * `Date` alone is faked. The timers, `performance.now()` and the event loop stay real, so servers, sockets and
 * timeouts behave as they do in production. For a test whose outcome moves with the hour, the weekday or the day it
 * runs on (a forecast of a history that ends at the current hour, a window that ends at the current hour): it is then
 * the same at whatever instant CI runs it. Undone by `jest.useRealTimers()`.
 */
export function pinWallClock(at: number): void {
  jest.useFakeTimers({
    now: at,
    advanceTimers: true,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

/**
 * Runs `measure` again when a UTC midnight came while it ran (twice at most: a test does not see two midnights), and
 * returns the run that began and ended on one day. For a test of a service process, whose clock `pinWallClock` does
 * not reach, that compares today's spend with a budget: a call made before midnight is yesterday's spend, and a
 * check after it reads a new day's (a budget exceeded was no longer, a wave of calls the budget refused fit again).
 * `attempt` (1, then 2) lets a retry take fresh names (a database, a data directory).
 */
export async function withinOneUtcDay<T>(measure: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const day = utcDayStart(Date.now());
    const result = await measure(attempt);
    if (utcDayStart(Date.now()) === day || attempt === 2) return result;
  }
}
