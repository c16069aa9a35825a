// The security lib: API keys and scopes (the global guard), rate limits, CORS and security headers
// (docs/security.md). The decorators routes declare their access with are in @app/common.
export { SecurityModule, developmentKeyNotice } from './security.module';
export { ApiKeyGuard } from './api-key.guard';
export { ApiKeyStore, type AuthMode, type Caller, DEVELOPMENT_KEY_PREFIX } from './api-key.store';
export { AccessPolicy, drillRequested, type GuardedRequest } from './access-policy';
export { RateLimiter, type RateDecision, MAX_BUCKETS } from './rate-limiter';
export { RouteAccessCatalog, describeAccess, type RouteAccessEntry } from './route-access.catalog';
export { BootNotice } from './boot-notice';
export { configureHttpSecurity, SECURITY_HEADERS } from './http-security';
export { SECURITY_METRICS } from './security.metrics';
export * from './security.errors';
