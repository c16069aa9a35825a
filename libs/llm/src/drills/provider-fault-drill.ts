import { monotonicNow } from '@app/common';

/** The fault rates a provider fault drill turns on (each 0–1, a share of the calls). */
export interface ProviderFaultRates {
  errorRate: number;
  rateLimitRate: number;
  timeoutRate: number;
  slowRate: number;
}

export const NO_FAULTS: ProviderFaultRates = { errorRate: 0, rateLimitRate: 0, timeoutRate: 0, slowRate: 0 };

/** A running drill: its rates, when it started and when it ends (epoch ms, as shown). */
export interface ActiveFaultDrill {
  rates: ProviderFaultRates;
  startedAt: number;
  endsAt: number;
}

/**
 * The simulated provider's fault injection turned on at run time (`POST /llm/drills/faults`, admin): for a bounded
 * time, a share of the calls fails with a 5xx, a 429, a hang until the timeout, or an 8x slower answer, on top of the
 * configured SIM_* rates, so that the health score falls, an incident queues up, and both recover when the drill
 * ends. Only the simulated provider reads it; a real provider is never touched.
 */
export class ProviderFaultDrill {
  private drill: ActiveFaultDrill | undefined;
  /** When the running drill ends on the monotonic clock: a wall clock that steps does not lengthen or end it. */
  private endsAtMonotonic = 0;

  /** `now`: the wall clock of `startedAt`/`endsAt` (shown); `elapsed`: the monotonic clock that times the drill. */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly elapsed: () => number = monotonicNow,
  ) {}

  start(rates: ProviderFaultRates, durationMs: number): ActiveFaultDrill {
    const startedAt = this.now();
    this.drill = { rates: { ...rates }, startedAt, endsAt: startedAt + durationMs };
    this.endsAtMonotonic = this.elapsed() + durationMs;
    return this.drill;
  }

  /** Ends the drill now; the one that was running, if any. */
  stop(): ActiveFaultDrill | undefined {
    const was = this.active();
    this.drill = undefined;
    return was;
  }

  /** The running drill, or undefined (none, or it has ended). */
  active(): ActiveFaultDrill | undefined {
    if (this.drill && this.elapsed() >= this.endsAtMonotonic) this.drill = undefined;
    return this.drill;
  }

  /** The rates in force now (zero when no drill runs). */
  rates(): ProviderFaultRates {
    return this.active()?.rates ?? NO_FAULTS;
  }
}
