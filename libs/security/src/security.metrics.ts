import type { MetricDefinition } from '@app/telemetry';

/** Tag keys of the security metrics (bounded values: fixed lists in this lib). */
export const SECURITY_TAG = { reason: 'reason', principal: 'principal' } as const;

/** The security lib's metrics (docs/security.md). Never a key, a hash or a key name as a tag. */
export const SECURITY_METRICS = {
  authRejected: {
    name: 'http.auth.rejected',
    type: 'count',
    unit: 'request',
    tags: [SECURITY_TAG.reason],
    description:
      'Requests refused by the API-key check: reason missing (no key, 401), invalid (a key not configured, 401) or scope (a valid key without the scope the route or drill needs, 403).',
  },
  rateLimited: {
    name: 'http.rate_limited',
    type: 'count',
    unit: 'request',
    tags: [SECURITY_TAG.principal],
    description:
      'Requests refused with 429 by the per-replica rate limit: principal key (RATE_LIMIT_PER_MINUTE per API key) or anonymous (RATE_LIMIT_ANONYMOUS_PER_MINUTE per client IP).',
  },
} as const satisfies Record<string, MetricDefinition>;
