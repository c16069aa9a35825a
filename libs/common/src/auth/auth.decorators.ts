import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiSecurity } from '@nestjs/swagger';
import type { ApiScope } from '@app/config';

/** The OpenAPI security schemes of an API key (docs/security.md): `Authorization: Bearer <key>` or `x-api-key`. */
export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'api-key';
/** The OpenAPI security scheme of the monitor webhook's shared secret (`X-Webhook-Secret`). */
export const WEBHOOK_SECRET_SCHEME = 'webhook-secret';
/** The OpenAPI extension naming the scope an operation needs (`x-required-scope`), or that it is open. */
export const REQUIRED_SCOPE_EXTENSION = 'x-required-scope';
export const DRILL_SCOPE_EXTENSION = 'x-drill-scope';
export const OPEN_EXTENSION = 'x-open';
export const OWN_AUTH_EXTENSION = 'x-own-auth';

/** Metadata key of a route's access rule (read by the security lib's guard). */
export const ROUTE_ACCESS = Symbol.for('lrcp.route-access');

/**
 * Who may call a route:
 * - `scope`: a key holding `scope`; when `drills` is set, a request that turns on a `simulate_*` drill also needs
 *   that scope;
 * - `open`: anyone (the health probes and the docs; AUTH_OPEN_PATHS can close them, then they need `read`);
 * - `own`: the route authenticates its callers itself (the monitor webhook's `X-Webhook-Secret`).
 * A route without a rule is refused to everyone (deny by default).
 */
export type RouteAccess =
  | { readonly kind: 'scope'; readonly scope: ApiScope; readonly drills?: ApiScope }
  | { readonly kind: 'open'; readonly openPath?: string }
  | { readonly kind: 'own'; readonly scheme: string };

/**
 * The route (or every route of the controller) needs an API key with `scope`. `drills`: a request with a
 * `simulate_*` query toggle on also needs that scope (`/qa`, `/reason`).
 */
export function RequireScope(scope: ApiScope, options: { drills?: ApiScope } = {}): MethodDecorator & ClassDecorator {
  const access: RouteAccess = options.drills
    ? { kind: 'scope', scope, drills: options.drills }
    : { kind: 'scope', scope };
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS, access),
    ApiSecurity(BEARER_SCHEME),
    ApiSecurity(API_KEY_SCHEME),
    ApiExtension(REQUIRED_SCOPE_EXTENSION, scope),
    ...(options.drills ? [ApiExtension(DRILL_SCOPE_EXTENSION, options.drills)] : []),
  );
}

/**
 * The route is open (health probes): no key needed, unless AUTH_OPEN_PATHS leaves its path out (then `read`).
 * `openPath`: the AUTH_OPEN_PATHS entry it answers for when that is not its own path (every `/ui/...` route: `/ui`).
 */
export function Public(options: { openPath?: string } = {}): MethodDecorator & ClassDecorator {
  const access: RouteAccess = options.openPath ? { kind: 'open', openPath: options.openPath } : { kind: 'open' };
  return applyDecorators(SetMetadata(ROUTE_ACCESS, access), ApiExtension(OPEN_EXTENSION, true));
}

/**
 * The route authenticates its callers itself, with the OpenAPI security scheme `scheme` (declared by the app):
 * the API-key guard only rate-limits it per client IP. The monitor webhook (`X-Webhook-Secret`).
 */
export function OwnAuth(scheme: string): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS, { kind: 'own', scheme } satisfies RouteAccess),
    ApiSecurity(scheme),
    ApiExtension(OWN_AUTH_EXTENSION, scheme),
  );
}

/** The access rule of a handler: its own, else its controller's; undefined when neither declares one. */
export function routeAccessOf(controller: object, handler: object): RouteAccess | undefined {
  return (
    (Reflect.getMetadata(ROUTE_ACCESS, handler) as RouteAccess | undefined) ??
    (Reflect.getMetadata(ROUTE_ACCESS, controller) as RouteAccess | undefined)
  );
}
