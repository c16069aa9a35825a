/** Time the event loop spent idle (waiting for events) and active since the process started, in ms. */
export interface LoopTimes {
  readonly idleMs: number;
  readonly activeMs: number;
}

/**
 * The process's memory and event loop as the idle memory release sees them (the port; `V8ProcessMemory` is the
 * adapter on V8 and node:perf_hooks).
 */
export abstract class ProcessMemory {
  /** Whether `release` can run (V8's `gc` is exposed: `node --expose-gc`, as `npm start` runs the service). */
  abstract readonly canRelease: boolean;
  /**
   * Resident set size now, in bytes; undefined when it cannot be read (the OS reads it from /proc/self, a file: with
   * every file descriptor taken, by a flood of connections, the read fails with EMFILE).
   */
  abstract rss(): number | undefined;
  /** The event loop's idle and active time since the process started. */
  abstract loopTimes(): LoopTimes;
  /** One synchronous, memory-reducing full collection that hands freed heap pages back to the OS. */
  abstract release(): void;
}
