import { type MetricsHealth, MetricsPort, type Tags } from './metrics.port';

export interface RecordedMetric {
  type: 'count' | 'distribution' | 'gauge';
  name: string;
  value: number;
  tags: string[];
}

/** Keeps every metric in memory. For unit tests only; the application always sends DogStatsD. */
export class InMemoryMetrics extends MetricsPort {
  readonly recorded: RecordedMetric[] = [];

  increment(name: string, value: number, tags: Tags = []): void {
    this.recorded.push({ type: 'count', name, value, tags: [...tags] });
  }

  distribution(name: string, value: number, tags: Tags = []): void {
    this.recorded.push({ type: 'distribution', name, value, tags: [...tags] });
  }

  gauge(name: string, value: number, tags: Tags = []): void {
    this.recorded.push({ type: 'gauge', name, value, tags: [...tags] });
  }

  health(): MetricsHealth {
    return { ok: true, target: 'memory', sendErrors: 0 };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  named(name: string): RecordedMetric[] {
    return this.recorded.filter((m) => m.name === name);
  }
}
