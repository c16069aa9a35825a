import type { SecurityHeadersOptions } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '@app/config';
import { AccessPolicy } from './access-policy';

/**
 * The security headers of every answer (routes, 404s, errors): helmet's set through Nest's
 * `useSecurityHeaders`, with framing denied, no referrer, and a CSP that lets Swagger UI at /docs work (its
 * scripts and styles are served from /docs; it styles inline) but nothing else: no `upgrade-insecure-requests`
 * (the service answers plain HTTP on localhost), no HSTS (the TLS terminator in front sets it).
 */
export const SECURITY_HEADERS: SecurityHeadersOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", 'data:'],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      imgSrc: ["'self'", 'data:'],
      objectSrc: ["'none'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
    },
  },
  strictTransportSecurity: false,
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
};

/** Request headers a browser may send cross-origin, and response headers it may read (CORS_ORIGINS). */
const CORS_ALLOWED_HEADERS = ['authorization', 'x-api-key', 'content-type', 'accept', 'x-control-plane-metadata'];
const CORS_EXPOSED_HEADERS = ['retry-after', 'www-authenticate', 'x-request-id', 'x-control-plane-error-code'];

/** The routes the app serves outside Nest's controllers (Swagger UI and the OpenAPI document). */
export function docsPathOf(route: string | undefined): string | undefined {
  if (route === undefined) return undefined;
  if (route === '/docs' || route.startsWith('/docs/')) return '/docs';
  if (['/docs-json', '/docs-yaml', '/openapi.json'].includes(route)) return route;
  return undefined;
}

/**
 * Applies the HTTP side of docs/security.md to the Fastify app before it listens: security headers, CORS when
 * CORS_ORIGINS is set (off by default), `Cache-Control: no-store` on API answers (routes may set their own), and
 * the rate limit and access rule of the docs routes, which are served outside the controllers (open by default;
 * AUTH_OPEN_PATHS can require the `read` scope for them), and the rate limit of the requests no route answers (404,
 * 405, CORS preflights). The controllers' routes are checked by `ApiKeyGuard`.
 */
export function configureHttpSecurity(app: NestFastifyApplication): void {
  const config = app.get(AppConfig);
  const policy = app.get(AccessPolicy);
  app.useSecurityHeaders(SECURITY_HEADERS);
  const origins = config.security.corsOrigins;
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    const docs = docsPathOf(request.routeOptions.url);
    // Swagger UI's static files may be cached; every other answer is computed per request.
    if (docs !== '/docs' || request.routeOptions.url === '/docs') void reply.header('cache-control', 'no-store');
    const unrouted = request.is404 || (request.method === 'OPTIONS' && request.routeOptions.url === '*');
    if (docs === undefined && !unrouted) return done();
    try {
      // No controller route (a 404 or 405, a CORS preflight): no guard runs, so the rate limit is taken here.
      if (docs === undefined) policy.throttle(request);
      else policy.authorize(request, { kind: 'open' }, docs);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
  if (origins.length > 0) {
    const cors = {
      origin: origins.includes('*') ? '*' : [...origins],
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: CORS_ALLOWED_HEADERS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      credentials: false,
      maxAge: 600,
    };
    app.enableCors({
      // CORS's hook runs first of all and answers a preflight itself: its rate limit is taken here (a refusal is the
      // 429 problem, without CORS headers: the browser fails the preflight).
      delegator: (request, callback) => {
        try {
          if (request.method === 'OPTIONS') policy.throttle(request);
          callback(null, cors);
        } catch (error) {
          callback(error as Error);
        }
      },
    });
  }
}
