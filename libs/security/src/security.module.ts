import { Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConfig } from '@app/config';
import { ReadinessRegistry } from '@app/telemetry';
import { AccessPolicy } from './access-policy';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyStore } from './api-key.store';
import { BootNotice } from './boot-notice';
import { RateLimiter } from './rate-limiter';
import { RouteAccessCatalog } from './route-access.catalog';

const RULE = '='.repeat(100);

/**
 * API keys, scopes, rate limits and the HTTP security settings (docs/security.md). The app registers
 * `ApiKeyGuard` as the global guard and calls `configureHttpSecurity` before it listens.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    ApiKeyStore,
    { provide: RateLimiter, useFactory: () => new RateLimiter() },
    AccessPolicy,
    ApiKeyGuard,
    RouteAccessCatalog,
    BootNotice,
  ],
  exports: [ApiKeyStore, RateLimiter, AccessPolicy, ApiKeyGuard, RouteAccessCatalog],
})
export class SecurityModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('Security');

  constructor(
    private readonly config: AppConfig,
    private readonly keys: ApiKeyStore,
    private readonly catalog: RouteAccessCatalog,
    private readonly readiness: ReadinessRegistry,
    private readonly notice: BootNotice,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    const host = ['0.0.0.0', '::', ''].includes(this.config.http.host) ? '127.0.0.1' : this.config.http.host;
    const address = (port: number): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const { rateLimitPerMinute: perKey, rateLimitAnonymousPerMinute: perIp } = this.config.security;
    const limits = `rate limits ${perKey || 'off'}/min per key, ${perIp || 'off'}/min per IP without a key (per replica)`;
    if (this.keys.mode === 'disabled') {
      const warning =
        'AUTH_DISABLED=true: WARNING: every route is open to anyone who reaches the port, including the LLM routes ' +
        '(they spend money) and the admin routes. Local development only.';
      this.notice.print(`${RULE}\n${warning}\n${RULE}\n`);
      this.logger.warn(warning);
      this.readiness.register('auth', () => ({ status: 'disabled', detail: warning }));
    } else if (this.keys.mode === 'development') {
      const key = this.keys.takeDevelopmentKey();
      if (key !== undefined) this.onPort((port) => this.notice.print(developmentKeyNotice(key, address(port))));
      this.logger.warn(
        'No API_KEYS: a development key with every scope was generated for this process and printed on stderr ' +
          '(not in the logs). Configure API_KEYS (docs/security.md) for anything but local development.',
      );
      this.readiness.register('auth', () => ({
        status: 'unconfigured',
        detail: `API_KEYS not set: a development key generated at boot (printed on stderr) is the only key; ${limits}`,
      }));
    } else {
      this.logger.log(`API keys: ${this.keys.count} configured; ${limits}`);
      this.readiness.register('auth', () => ({
        status: 'ok',
        detail: `${this.keys.count} API key(s) configured; ${limits}`,
      }));
    }
    const undeclared = this.catalog.routes().filter((r) => r.access === undefined);
    if (undeclared.length > 0) {
      this.logger.warn(
        `Routes without an access rule are refused to everyone: ${undeclared.map((r) => r.route).join(', ')}`,
      );
    }
  }

  /**
   * Calls `use` with the port the service answers on: PORT, or with PORT=0 the one the server was given once it
   * listens (before, the notice's curl line said port 0).
   */
  private onPort(use: (port: number) => void): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (this.config.http.port !== 0 || server === undefined) return use(this.config.http.port);
    server.once('listening', () => use((server.address() as AddressInfo).port));
  }
}

/** The one time the development key is shown: on stderr, with how to use it. */
export function developmentKeyNotice(key: string, address: string): string {
  return [
    RULE,
    'No API_KEYS configured: generated a development API key with every scope (invoke, read, admin).',
    'It is valid for this process only and is not shown again. Use it as a Bearer token:',
    '',
    `  ${key}`,
    '',
    `  curl -s ${address}/qa -H "Authorization: Bearer ${key}" \\`,
    `    -H 'content-type: application/json' -d '{"question":"What is an SLO?"}'`,
    '',
    'Configure API_KEYS (or API_KEYS_FILE) for real keys: docs/security.md.',
    RULE,
    '',
  ].join('\n');
}
