import { monotonicNow } from '@app/common';

/** Thrown when no slot frees up within the queue timeout (answered 503 NO_CAPACITY). */
export class NoCapacityError extends Error {
  constructor(
    readonly limit: number,
    readonly waitedMs: number,
  ) {
    super(`all ${limit} slots busy for ${waitedMs} ms`);
    this.name = 'NoCapacityError';
  }
}

/**
 * Bounds concurrent upstream calls for one provider. Callers wait in FIFO order up to `queueTimeoutMs`,
 * then get NoCapacityError; an aborted caller leaves the queue at once.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: { resolve: () => void; reject: (e: unknown) => void; cleanup: () => void }[] = [];

  constructor(
    readonly limit: number,
    private readonly queueTimeoutMs: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limit) {
      this.active += 1;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const started = monotonicNow();
      const entry = {
        resolve: () => {
          entry.cleanup();
          resolve();
        },
        reject: (e: unknown) => {
          entry.cleanup();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      const remove = (): void => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) this.waiting.splice(index, 1);
      };
      const timer = setTimeout(() => {
        remove();
        entry.reject(new NoCapacityError(this.limit, monotonicNow() - started));
      }, this.queueTimeoutMs);
      const onAbort = (): void => {
        remove();
        const reason: unknown = signal?.reason;
        entry.reject(reason instanceof Error ? reason : new Error(String(reason)));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.resolve();
      else this.active -= 1;
    };
  }
}
