/**
 * The drill: faulty calls through the real pipeline with the simulated provider's fault toggles (`simulate_*` on
 * `POST /qa`, which need a key with the `invoke` and `admin` scopes), for a while, so a person can watch the health
 * score fall, an incident queue up, and both recover once the drill stops.
 */

/** The fault toggles of `POST /qa` (DrillQueryDto) the drill panel offers. */
export const DRILL_FAULTS = ['simulate_bad_prompt', 'simulate_retry', 'simulate_latency'] as const;
export type DrillFault = (typeof DRILL_FAULTS)[number];

export interface DrillOptions {
  faults: readonly DrillFault[];
  durationMs: number;
  /** Calls in flight at once. */
  concurrency: number;
  /** The least time between two calls of one worker (keeps the drill under the key's rate limit). */
  minIntervalMs: number;
}

export interface DrillProgress {
  running: boolean;
  sent: number;
  /** Answers by HTTP status (`200`, `422`, `502`...), and `0` for calls that got no answer. */
  byStatus: Record<string, number>;
  startedAt: number | null;
  endsAt: number | null;
  /** The last refusal that stops the drill (a key without the admin scope), if any. */
  error: string | null;
}

/** The query string of a drill call (`?simulate_bad_prompt=true&simulate_retry=true`). */
export function drillQuery(faults: readonly DrillFault[]): string {
  const on = DRILL_FAULTS.filter((f) => faults.includes(f));
  return on.length === 0 ? '' : `?${on.map((f) => `${f}=true`).join('&')}`;
}

/** What one drill call sends: a real question with its document, so the quality scorer has something to score. */
export const DRILL_BODY = {
  question: 'Control room drill: what colour is the sky on Mars?',
  document: 'The sky on Mars is butterscotch by day and blue at sunset.',
};

/** Sends one call; resolves with its HTTP status (0: no answer). Rejects only to stop the drill (401/403). */
export type DrillCall = (path: string, body: unknown) => Promise<number>;

export class Drill {
  private progress: DrillProgress = {
    running: false,
    sent: 0,
    byStatus: {},
    startedAt: null,
    endsAt: null,
    error: null,
  };
  private stopRequested = false;
  private run: Promise<void> | null = null;

  constructor(
    private readonly call: DrillCall,
    private readonly onProgress: (p: DrillProgress) => void,
    private readonly clock: () => number = () => Date.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  get state(): DrillProgress {
    return this.progress;
  }

  /** Starts the drill (a running one is left as it is); resolves when it has ended. */
  start(options: DrillOptions): Promise<void> {
    if (this.run) return this.run;
    const now = this.clock();
    this.stopRequested = false;
    this.progress = {
      running: true,
      sent: 0,
      byStatus: {},
      startedAt: now,
      endsAt: now + options.durationMs,
      error: null,
    };
    this.onProgress(this.progress);
    const path = `/qa${drillQuery(options.faults)}`;
    const worker = async (): Promise<void> => {
      while (!this.stopRequested && this.clock() < (this.progress.endsAt ?? 0)) {
        const started = this.clock();
        let status: number;
        try {
          status = await this.call(path, DRILL_BODY);
        } catch (error) {
          this.progress = { ...this.progress, error: error instanceof Error ? error.message : String(error) };
          this.stopRequested = true;
          break;
        }
        const key = String(status);
        this.progress = {
          ...this.progress,
          sent: this.progress.sent + 1,
          byStatus: { ...this.progress.byStatus, [key]: (this.progress.byStatus[key] ?? 0) + 1 },
        };
        this.onProgress(this.progress);
        const wait = options.minIntervalMs - (this.clock() - started);
        if (wait > 0 && !this.stopRequested) await this.sleep(wait);
      }
    };
    this.run = Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker)).then(() => {
      this.progress = { ...this.progress, running: false, endsAt: this.clock() };
      this.run = null;
      this.onProgress(this.progress);
    });
    return this.run;
  }

  /** Stops after the calls in flight; resolves when the drill has ended. */
  stop(): Promise<void> {
    this.stopRequested = true;
    return this.run ?? Promise.resolve();
  }
}

/** A one-line account of a drill for the page's live region. */
export function describeDrill(p: DrillProgress, now: number): string {
  if (p.error) return `Drill stopped: ${p.error}`;
  const answers = Object.entries(p.byStatus)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, n]) => `${n} × ${status === '0' ? 'no answer' : status}`)
    .join(', ');
  if (p.running) {
    const left = Math.max(0, Math.ceil(((p.endsAt ?? now) - now) / 1000));
    return `Drill running: ${p.sent} faulty calls sent${answers ? ` (${answers})` : ''}, ${left} s left.`;
  }
  if (p.startedAt === null) return 'No drill running.';
  return `Drill ended: ${p.sent} faulty calls sent${answers ? ` (${answers})` : ''}. Watch the score recover.`;
}
