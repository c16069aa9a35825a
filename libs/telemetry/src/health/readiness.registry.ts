import { Injectable } from '@nestjs/common';

export interface DependencyStatus {
  /** ok: working; degraded: configured but failing; disabled: turned off by config; unconfigured: no credentials. */
  status: 'ok' | 'degraded' | 'disabled' | 'unconfigured';
  detail: string;
}

export type ReadinessCheckFn = () => DependencyStatus | Promise<DependencyStatus>;

/** Modules register their dependencies here (in onModuleInit); GET /health/ready reports each one. */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheckFn>();

  register(name: string, check: ReadinessCheckFn): void {
    this.checks.set(name, check);
  }

  async run(): Promise<Record<string, DependencyStatus>> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, DependencyStatus]> => {
        try {
          return [name, await check()];
        } catch (error) {
          return [name, { status: 'degraded', detail: error instanceof Error ? error.message : String(error) }];
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}
