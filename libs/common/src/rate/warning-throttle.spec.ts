import { heldBack, WarningThrottle } from './warning-throttle';

describe('WarningThrottle', () => {
  it('lets one line per key and interval through and counts the ones held back', () => {
    const clock = { now: 0 };
    const throttle = new WarningThrottle(60_000, () => clock.now);
    expect(throttle.admit('a')).toBe(0);
    expect(throttle.admit('a')).toBeUndefined();
    expect(throttle.admit('b')).toBe(0); // keys are apart
    clock.now = 59_999;
    expect(throttle.admit('a')).toBeUndefined();
    clock.now = 60_000;
    expect(throttle.admit('a')).toBe(2);
    expect(heldBack(2)).toBe(' (2 more since the last line)');
    expect(heldBack(0)).toBe('');
  });

  it('forgets a key on clear (the condition is over) and says what was held back', () => {
    const throttle = new WarningThrottle(60_000, () => 0);
    throttle.admit();
    throttle.admit();
    expect(throttle.active()).toBe(true);
    expect(throttle.clear()).toBe(1);
    expect(throttle.active()).toBe(false);
    expect(throttle.admit()).toBe(0); // a new outage is said at once
  });

  it('on its default clock, a wall clock stepped back an hour does not silence the condition for that hour', () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 11, 7, 12) });
    try {
      const throttle = new WarningThrottle(60_000);
      expect(throttle.admit()).toBe(0);
      // setSystemTime steps Date.now alone (NTP, a VM resumed); the timers and performance.now go on.
      jest.setSystemTime(Date.now() - 3_600_000);
      expect(throttle.admit()).toBeUndefined();
      jest.advanceTimersByTime(60_000);
      expect(throttle.admit()).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
