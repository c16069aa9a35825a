/**
 * A single-consumer async queue: the producer pushes, fails or closes; the consumer iterates.
 *
 * With a high-water mark the queue says when it holds enough: `push` returns false once the items waiting weigh
 * more than it (`weigh`: 1 per item unless given), and the producer awaits `drained` before it reads on. A stream's
 * text then waits upstream (TCP backpressure) rather than in the heap while its client reads slowly or not at all.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private head = 0;
  private weight = 0;
  private waiter?: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void };
  private drainWaiter?: () => void;
  private closed = false;
  private error: unknown;
  private failed = false;

  constructor(
    private readonly highWater = Infinity,
    private readonly weigh: (item: T) => number = () => 1,
  ) {}

  /** Queues an item; false when the items waiting are over the high-water mark (await `drained` before more). */
  push(item: T): boolean {
    if (this.closed) return true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
      return true;
    }
    this.items.push(item);
    this.weight += this.weigh(item);
    return this.weight <= this.highWater;
  }

  /** The weight of the items waiting for the consumer. */
  get buffered(): number {
    return this.weight;
  }

  /** Resolves once the consumer has taken every waiting item, the queue ended, or `signal` aborted. */
  drained(signal?: AbortSignal): Promise<void> {
    if (this.items.length === this.head || this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        if (this.drainWaiter === done) this.drainWaiter = undefined;
        resolve();
      };
      this.drainWaiter = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    this.drainWaiter?.();
    if (this.waiter && this.items.length === this.head) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.failed = true;
    this.error = error;
    this.closed = true;
    this.drainWaiter?.();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(error);
    }
  }

  /** The next waiting item (an index moves: shifting a long array on every take is quadratic). */
  private take(): { item: T } | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as T;
    this.head++;
    this.weight -= this.weigh(item);
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
      this.weight = 0;
      this.drainWaiter?.();
    }
    return { item };
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const taken = this.take();
        if (taken) return Promise.resolve({ value: taken.item, done: false });
        if (this.failed)
          return Promise.reject(this.error instanceof Error ? this.error : new Error(String(this.error)));
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
      },
    };
  }
}
