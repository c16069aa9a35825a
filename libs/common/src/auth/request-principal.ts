const PRINCIPAL = Symbol('request.principal');

type WithPrincipal = Record<typeof PRINCIPAL, string | undefined>;

/**
 * Records who a request was authorised as: the name of its API key (set by the global guard). What the service keeps
 * per caller reads it back with `requestPrincipal`, e.g. the response cache's partition (CACHE_SCOPE=key).
 */
export function setRequestPrincipal(request: object, principal: string): void {
  (request as WithPrincipal)[PRINCIPAL] = principal;
}

/** The API key's name a request was authorised with; undefined without one (auth off, an open route). */
export function requestPrincipal(request: object): string | undefined {
  return (request as Partial<WithPrincipal>)[PRINCIPAL];
}

const RATE_LIMIT_REFUSAL = Symbol('request.rateLimitRefusal');

type WithRefusal = Record<typeof RATE_LIMIT_REFUSAL, Error | undefined>;

/**
 * Records that a request to a route that authenticates its callers itself (`OwnAuth`) is over the anonymous rate
 * limit, instead of refusing it at once: the route's own check decides, refusing (with `refusal`) only a caller it
 * does not authenticate. Datadog's monitor webhook comes from a few addresses and is retried only on a 5xx: a 429
 * lost the notification.
 */
export function setRateLimitRefusal(request: object, refusal: Error): void {
  (request as WithRefusal)[RATE_LIMIT_REFUSAL] = refusal;
}

/** The rate-limit refusal recorded for a request (`setRateLimitRefusal`); undefined when it is within the limit. */
export function rateLimitRefusal(request: object): Error | undefined {
  return (request as Partial<WithRefusal>)[RATE_LIMIT_REFUSAL];
}
