/** Tags as preformatted `key:value` strings; build them once per tag combination with `formatTags`. */
export type Tags = readonly string[];

export interface MetricsHealth {
  /** True when the client is open and no send error was seen in the last minute. */
  ok: boolean;
  target: string;
  sendErrors: number;
  lastError?: string;
}

/**
 * Port: where the service's own metrics go. Implementations never throw into a request: a send failure is
 * counted and reported through `health()`.
 */
export abstract class MetricsPort {
  abstract increment(name: string, value: number, tags?: Tags): void;
  abstract distribution(name: string, value: number, tags?: Tags): void;
  abstract gauge(name: string, value: number, tags?: Tags): void;
  abstract health(): MetricsHealth;
  abstract close(): Promise<void>;
}

const TAG_VALUE_UNSAFE = /[^a-z0-9_.\-/:]/gi;

/** Normalises a tag value the way Datadog would (lower-case, no `,|#` separators), bounded to 100 chars. */
export function tagValue(value: string | number | boolean): string {
  return String(value).toLowerCase().replace(TAG_VALUE_UNSAFE, '_').slice(0, 100);
}

export function formatTags(tags: Record<string, string | number | boolean | undefined>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(tags)) if (value !== undefined) out.push(`${key}:${tagValue(value)}`);
  return out;
}
