import { type AppConfig, loadConfig } from '@app/config';

/**
 * A validated config for in-process tests: loopback everywhere, tracing off unless asked, and (test-only, like
 * test/support/service-process.ts) API-key auth and rate limits off unless the test sets them.
 */
export function testConfig(env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    envFile: false,
    packageVersion: '0.0.0-test',
    env: {
      DD_TRACE_ENABLED: 'false',
      DD_AGENT_HOST: '127.0.0.1',
      DD_DOGSTATSD_PORT: '9',
      LOG_LEVEL: 'silent',
      AUTH_DISABLED: 'true',
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
      ...env,
    },
  });
}
