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
