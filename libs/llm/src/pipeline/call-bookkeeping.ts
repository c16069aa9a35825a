import { AsyncResource } from 'node:async_hooks';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { UsageRecorder } from '../assessment/usage-recorder';

/** The longest a call's records wait for the next upstream call to go out (see `defer`). */
const BOOKKEEPING_MAX_DELAY_MS = 2;

/**
 * At shutdown, the longest the ledger waits for the calls still open to be recorded. By then the server has closed
 * every connection (SHUTDOWN_GRACE_MS cut those still open), so each open call is ending; only a stream nobody read
 * stays open, and the stop goes on without it after this.
 */
const OPEN_CALLS_SETTLE_MS = 2000;

/**
 * The records of answered calls (metrics, log line, ledger, evaluations, drift), made off the request path:
 * queued when the answer is written, run just after the next upstream request goes out (`upstreamDispatched`),
 * while the process waits for the provider instead of in front of the next request (−0.1 ms p50 at one
 * connection against running them as soon as the answer is written, bench/RESULTS.md), or after
 * BOOKKEEPING_MAX_DELAY_MS when no call comes. Calls answered meanwhile are recorded together, in order; a
 * failing task is logged and never reaches a request; anything pending runs at shutdown.
 *
 * Each task runs in the async context of the call that queued it (an `AsyncResource` made when it is queued), not
 * in that of the call whose upstream request or timer happens to run it: its log line carries its own request's
 * `dd.trace_id` and `dd.span_id` (dd-trace's log injection reads the active span), so the line still links to its
 * trace.
 */
@Injectable()
export class CallBookkeeping implements OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('LlmService');
  private readonly pending: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private immediate = false;
  /** Calls opened and not yet recorded (`opened`), and who waits for none to be left (`onApplicationShutdown`). */
  private open = 0;
  private readonly whenNoneOpen: (() => void)[] = [];

  constructor(
    private readonly config: AppConfig,
    private readonly usage: UsageRecorder,
  ) {}

  /**
   * Refuses a call once an enforced daily budget is spent. Under BUDGET_POLICY=enforce the records still
   * pending are made first, so the spend of every call already answered counts (the overshoot stays what the
   * calls in flight cost); under `alert` they keep waiting for the next upstream call.
   */
  admit(): void {
    if (this.config.budget.policy === 'enforce' && this.pending.length > 0) this.run();
    this.usage.assertWithinBudget();
  }

  /** Queues a call's records, to run later in this call's async context. */
  defer(task: () => void): void {
    // Not `AsyncResource.bind(task)`: it also defines a deprecated accessor on the function it returns, which made
    // it 3.4-4.9 µs a call against 0.1-0.3 µs for this (the same async context; Nest binds its interceptors so too).
    const scope = new AsyncResource('CallBookkeeping.task');
    this.pending.push(() => scope.runInAsyncScope(task));
    this.timer ??= setTimeout(() => this.run(), BOOKKEEPING_MAX_DELAY_MS);
  }

  /** An attempt's request has been handed to the provider: pending records are made once it is on its way. */
  upstreamDispatched(): void {
    if (this.pending.length === 0 || this.immediate) return;
    this.immediate = true;
    setImmediate(() => this.run());
  }

  /**
   * A call is open (admitted, not yet recorded): returns what ends it, once, when its records are made or queued.
   * What is open at shutdown is waited for (`onApplicationShutdown`).
   */
  opened(): () => void {
    this.open += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.open -= 1;
      if (this.open === 0) for (const resolve of this.whenNoneOpen.splice(0)) resolve();
    };
  }

  onModuleDestroy(): void {
    this.run();
  }

  /**
   * The calls answered while the server drained (Nest closes it after `onModuleDestroy`) queued their records
   * just before their answers went out: they are made now, before the ledger's own shutdown hook writes its buffer
   * (LedgerModule, imported by LlmModule, shuts down after it), so a graceful stop records every answered call.
   * The calls its grace period cut (SHUTDOWN_GRACE_MS) are still ending when the server has closed: they are waited
   * for (at most OPEN_CALLS_SETTLE_MS), so what they cost is recorded too; they were lost before.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.open > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.whenNoneOpen.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, OPEN_CALLS_SETTLE_MS))),
      ]);
      clearTimeout(timer);
      if (this.open > 0) this.logger.warn(`shutdown: ${this.open} LLM call(s) still open, not recorded`);
    }
    this.run();
  }

  private run(): void {
    this.immediate = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const task of this.pending.splice(0)) {
      try {
        task();
      } catch (error) {
        this.logger.error(`recording an LLM call failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
