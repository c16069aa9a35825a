import { Injectable } from '@nestjs/common';

export interface DependencyStatus {
  /** ok: working; degraded: configured but failing; disabled: turned off by config; unconfigured: no credentials. */
  status: 'ok' | 'degraded' | 'disabled' | 'unconfigured';
  detail: string;
}

export type ReadinessCheckFn = () => DependencyStatus | Promise<DependencyStatus>;

/**
 * The longest one dependency's check may take. A database that hangs (a frozen server, a network partition: the
 * connection stays open, no answer comes) held GET /health/ready with it, past any probe's timeout; now the check
 * is reported degraded after this, and the others as they are.
 */
export const READINESS_CHECK_TIMEOUT_MS = 2000;

/** Modules register their dependencies here (in onModuleInit); GET /health/ready reports each one. */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheckFn>();
  /** READINESS_CHECK_TIMEOUT_MS; tests shorten it. */
  timeoutMs = READINESS_CHECK_TIMEOUT_MS;

  register(name: string, check: ReadinessCheckFn): void {
    this.checks.set(name, check);
  }

  async run(): Promise<Record<string, DependencyStatus>> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, DependencyStatus]> => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<DependencyStatus>((resolve) => {
          timer = setTimeout(
            () => resolve({ status: 'degraded', detail: `no answer in ${this.timeoutMs} ms` }),
            this.timeoutMs,
          );
        });
        try {
          return [name, await Promise.race([Promise.resolve().then(check), late])];
        } catch (error) {
          return [name, { status: 'degraded', detail: error instanceof Error ? error.message : String(error) }];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}
