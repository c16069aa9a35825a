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
