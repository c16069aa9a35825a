import { Module } from '@nestjs/common';
import pino from 'pino';
import { monotonicNow } from '@app/common';
import { AppConfig } from '@app/config';

/** The longest a buffered log line waits before it is written (LOG_BUFFER_BYTES > 0). */
export const LOG_FLUSH_EVERY_MS = 250;

const WARN_EVERY_MS = 60_000;

/**
 * The most bytes one write to stdout carries. sonic-boom's default (16 KB) allows one write per turn of the
 * event loop: a busy process (10–20 ms turns) could then write only about 1 MB/s of logs and fell behind its
 * own log rate under load (bench/RESULTS.md, 2026-11-29). Readers take any size (Docker splits at 16 KB).
 */
export const LOG_MAX_WRITE_BYTES = 256 * 1024;

/**
 * stdout for the JSON logs: asynchronous, gathered up to LOG_BUFFER_BYTES and flushed every
 * LOG_FLUSH_EVERY_MS (pino writes what is left synchronously on exit), written up to LOG_MAX_WRITE_BYTES at a
 * time, and bounded. When stdout does not keep up (a slow log collector, a full pipe) lines wait in memory up
 * to LOG_MAX_BACKLOG_BYTES; beyond that new lines are dropped and counted instead of growing the heap until the process is killed. Drops are reported
 * as `log.dropped.count`, on /health/ready and, at most once a minute, on stderr. Built by LogDestinationModule
 * (one instance shared by the logger and the module that reports drops).
 */
export class LogDestination {
  readonly stream: pino.DestinationStream;
  private droppedLines = 0;
  private lastDropAt: number | undefined;
  private lastWarnAt = -Infinity;
  private readonly listeners: ((lines: number) => void)[] = [];

  constructor(config: AppConfig) {
    const buffered = config.log.bufferBytes > 0;
    const boom = pino.destination({
      dest: 1,
      sync: false,
      minLength: buffered ? config.log.bufferBytes : 0,
      periodicFlush: buffered ? LOG_FLUSH_EVERY_MS : 0,
      maxLength: config.log.maxBacklogBytes,
      maxWrite: LOG_MAX_WRITE_BYTES,
      contentMode: 'buffer',
    });
    boom.on('drop', () => this.dropped());
    // pino writes strings; the destination takes each line as a Buffer: in its utf8 mode it appends every line
    // to one growing string and measures that string again on each line (a copy of up to maxWrite bytes per
    // line), which made large writes too dear. In buffer mode a line costs its own encoding and each write
    // concatenates the pending lines once. pino's exit hook still flushes `boom` synchronously.
    this.stream = {
      write: (line: string): boolean => (boom.write as unknown as (data: Buffer) => boolean)(Buffer.from(line, 'utf8')),
      flush: (callback?: (error?: Error) => void): void => boom.flush(callback),
      flushSync: (): void => boom.flushSync(),
    } as pino.DestinationStream;
  }

  /** Calls `listener` with the number of lines each time lines are dropped. */
  onDrop(listener: (lines: number) => void): void {
    this.listeners.push(listener);
  }

  /** Lines dropped since start, and how long ago the last drop happened (ms, on the monotonic clock). */
  drops(): { lines: number; msSinceLast: number | undefined } {
    return {
      lines: this.droppedLines,
      msSinceLast: this.lastDropAt === undefined ? undefined : monotonicNow() - this.lastDropAt,
    };
  }

  private dropped(): void {
    this.droppedLines += 1;
    const now = monotonicNow();
    this.lastDropAt = now;
    for (const listener of this.listeners) listener(1);
    if (now - this.lastWarnAt >= WARN_EVERY_MS) {
      this.lastWarnAt = now;
      // On stderr: stdout is what is failing.
      process.stderr.write(
        `log lines dropped: stdout is not keeping up and LOG_MAX_BACKLOG_BYTES is reached (${this.droppedLines} lines dropped since start)\n`,
      );
    }
  }
}

/** Provides the one LogDestination of the process, to the logger and to TelemetryModule. */
@Module({
  providers: [
    { provide: LogDestination, inject: [AppConfig], useFactory: (config: AppConfig) => new LogDestination(config) },
  ],
  exports: [LogDestination],
})
export class LogDestinationModule {}
