import { DomainError } from '@app/common';
import type { ApiScope } from '@app/config';

/**
 * The security lib's refusals. They use the generic HTTP codes (`UNAUTHORIZED`, `FORBIDDEN`, `RATE_LIMITED`,
 * docs/errors.md): the problem+json routes answer them as problem details, the `/v1` routes as OpenAI errors.
 */

/** Why a request was refused: the `reason` tag of `http.auth.rejected`. */
export type AuthRejection = 'missing' | 'invalid' | 'scope';

/** 401: no key, or a key that is not configured. `WWW-Authenticate: Bearer` says how to present one. */
export function unauthorized(reason: 'missing' | 'invalid', detail: string): DomainError {
  const challenge = reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"';
  return new DomainError('UNAUTHORIZED', detail, { reason }, { 'www-authenticate': challenge });
}

/** 403: a valid key without the scope the route (or the drill) needs; names the scope. */
export function forbidden(scope: ApiScope, what: string): DomainError {
  return new DomainError('FORBIDDEN', `${what} needs an API key with the ${scope} scope; this key does not have it.`, {
    requiredScope: scope,
  });
}

/** 403: a route that declares no access rule is refused to everyone (deny by default). */
export function undeclaredRoute(route: string): DomainError {
  return new DomainError('FORBIDDEN', `${route} declares no access rule: refused (deny by default).`, {
    requiredScope: null,
  });
}

/** 429: the caller's bucket is empty; `Retry-After` says when one request will be let through again. */
export function rateLimited(retryAfterSeconds: number, perMinute: number, who: 'key' | 'anonymous'): DomainError {
  const whose = who === 'key' ? 'this API key' : 'this client address (no API key)';
  return new DomainError(
    'RATE_LIMITED',
    `More than ${perMinute} requests per minute from ${whose}; retry in ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
    { 'retry-after': String(retryAfterSeconds) },
  );
}
