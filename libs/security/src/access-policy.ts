import { isIP } from 'node:net';
import { Injectable } from '@nestjs/common';
import { booleanFromText, type RouteAccess, setRateLimitRefusal } from '@app/common';
import { type ApiScope, AppConfig } from '@app/config';
import { formatTags, MetricsPort } from '@app/telemetry';
import { ApiKeyStore, type Caller } from './api-key.store';
import { RateLimiter } from './rate-limiter';
import { type AuthRejection, forbidden, rateLimited, unauthorized, undeclaredRoute } from './security.errors';
import { SECURITY_METRICS, SECURITY_TAG } from './security.metrics';

/** What the policy reads of a request (Fastify's request). */
export interface GuardedRequest {
  readonly method: string;
  readonly url: string;
  readonly ip?: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Node's request: its raw header lines show a key header sent twice, which `headers` hides. */
  readonly raw?: { readonly rawHeaders?: readonly string[] };
  readonly query?: unknown;
  readonly routeOptions?: { readonly url?: string };
}

/**
 * A `simulate_*` query toggle turned on: any value but one that spells false as the DTO reads it (`booleanFromText`:
 * false, 0, no, off, f, n in any case, or empty); the DTO refuses the values that spell neither anyway.
 */
export function drillRequested(query: unknown): boolean {
  if (!query || typeof query !== 'object') return false;
  return Object.entries(query as Record<string, unknown>).some(([name, value]) => {
    if (!name.startsWith('simulate_')) return false;
    const values = Array.isArray(value) ? (value as unknown[]) : [value];
    return values.some((v) => v !== undefined && booleanFromText(v, false) !== false);
  });
}

/**
 * The per-IP bucket of a client address. An IPv4 address is one client (also as IPv4-mapped IPv6, `::ffff:192.0.2.7`,
 * what a dual-stack listener sees); an IPv6 address is counted by its /64: one subscriber, one host, gets a whole /64
 * and may use any of its 2^64 addresses, so a bucket per address let one caller past the limit (and push other
 * callers' buckets out of the bounded map).
 */
export function clientBucketOf(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'ip:unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return `ip:${mapped[1]}`;
  if (isIP(ip.replace(/%.*$/, '')) !== 6) return `ip:${ip}`;
  return `ip:${ipv6Prefix64(ip)}::/64`;
}

/** The first four groups of an IPv6 address, expanded (`2001:db8::1` → `2001:db8:0:0`). */
function ipv6Prefix64(address: string): string {
  let text = address.replace(/%.*$/, '').toLowerCase();
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':');
}

/** The route template of a request (`/optimization/recommendations/:id`), else its path. */
export function routeOf(request: GuardedRequest): string {
  return request.routeOptions?.url ?? request.url.split('?')[0] ?? request.url;
}

/**
 * Who may do what (docs/security.md), applied by the API-key guard to every controller route and by the HTTP hook
 * to the docs routes: first the rate limit (per key, or per client IP without a valid key), then the key and the
 * scope the route's access rule asks for. Throws the refusal (401, 403, 429); returns the caller when let through.
 */
@Injectable()
export class AccessPolicy {
  private readonly openPaths: ReadonlySet<string>;
  private readonly throttled = new WeakSet<GuardedRequest>();

  constructor(
    private readonly config: AppConfig,
    private readonly keys: ApiKeyStore,
    private readonly limiter: RateLimiter,
    private readonly metrics: MetricsPort,
  ) {
    this.openPaths = new Set(config.security.openPaths);
  }

  /** Whether `path` (one of OPENABLE_PATHS) is open without a key. */
  isOpen(path: string): boolean {
    return this.openPaths.has(path);
  }

  /**
   * Checks a request against its route's rule. `openPath`: the AUTH_OPEN_PATHS entry an `open` route answers
   * for (default: the route template).
   */
  authorize(request: GuardedRequest, access: RouteAccess | undefined, openPath?: string): Caller | undefined {
    const disabled = this.keys.mode === 'disabled';
    const caller = disabled ? undefined : this.keys.identify(request.headers, request.raw?.rawHeaders);
    this.limit(request, caller, access?.kind === 'own');
    if (disabled) return undefined;
    const route = `${request.method} ${routeOf(request)}`;
    if (access?.kind === 'own') return caller;
    if (access?.kind === 'open' && this.isOpen(openPath ?? access.openPath ?? routeOf(request))) return caller;
    if (caller!.kind === 'missing') {
      throw this.reject(
        'missing',
        unauthorized(
          'missing',
          `${route} needs an API key: send \`Authorization: Bearer <key>\` or \`x-api-key: <key>\`.`,
        ),
      );
    }
    if (caller!.kind === 'invalid') {
      throw this.reject('invalid', unauthorized('invalid', `The API key is not valid: ${caller!.why}.`));
    }
    const scopes = caller!.scopes;
    if (access === undefined) throw this.reject('scope', undeclaredRoute(route));
    const routeScope: ApiScope = access.kind === 'scope' ? access.scope : 'read';
    if (!scopes.includes(routeScope)) throw this.reject('scope', forbidden(routeScope, route));
    if (access.kind === 'scope' && access.drills && drillRequested(request.query) && !scopes.includes(access.drills)) {
      throw this.reject('scope', forbidden(access.drills, `Turning on a simulate_* drill of ${route}`));
    }
    return caller;
  }

  /**
   * The rate limit alone, for a request no route's rule checks: a 404 (or a 405) and a CORS preflight. Without it an
   * anonymous flood of unknown paths or `OPTIONS` was unlimited. Per key with a valid key, else per client IP.
   */
  throttle(request: GuardedRequest): void {
    // Once per request: a preflight the CORS hook let through reaches the hook of unrouted requests too.
    if (this.throttled.has(request)) return;
    this.throttled.add(request);
    const disabled = this.keys.mode === 'disabled';
    this.limit(request, disabled ? undefined : this.keys.identify(request.headers, request.raw?.rawHeaders));
  }

  /**
   * Takes a request from its bucket; over the limit, refuses it (429), or, on a route that authenticates its callers
   * itself (`ownAuth`: the monitor webhook), records the refusal for that route's check, which throws it only at a
   * caller it does not authenticate (`setRateLimitRefusal`): Datadog retries a webhook only on a 5xx, so a 429 to
   * its notifications lost every alert of a storm past the anonymous bucket.
   */
  private limit(request: GuardedRequest, caller: Caller | undefined, ownAuth = false): void {
    const { rateLimitPerMinute, rateLimitAnonymousPerMinute } = this.config.security;
    const byKey = caller?.kind === 'key';
    const perMinute = byKey || caller === undefined ? rateLimitPerMinute : rateLimitAnonymousPerMinute;
    const bucket = byKey ? `key:${caller.name}` : clientBucketOf(request.ip);
    const decision = this.limiter.take(bucket, perMinute);
    if (decision.allowed) return;
    const principal = byKey ? 'key' : 'anonymous';
    const refusal = rateLimited(decision.retryAfterSeconds, perMinute, principal);
    if (ownAuth && !byKey) {
      setRateLimitRefusal(request, refusal);
      return;
    }
    this.metrics.increment(SECURITY_METRICS.rateLimited.name, 1, formatTags({ [SECURITY_TAG.principal]: principal }));
    throw refusal;
  }

  private reject<E>(reason: AuthRejection, error: E): E {
    this.metrics.increment(SECURITY_METRICS.authRejected.name, 1, formatTags({ [SECURITY_TAG.reason]: reason }));
    return error;
  }
}
