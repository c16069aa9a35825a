import { resolve } from 'node:path';
import type { AppConfig } from '@app/config';
import { databaseTarget } from '@app/ledger';

/** The fields of the start's summary line: what the process runs with, never a secret's value. */
export interface StartupSummary {
  readonly url: string;
  readonly llm: {
    readonly provider: string;
    /** True for the simulated provider: no real model is called and nothing is billed. */
    readonly simulated: boolean;
    readonly models: readonly string[];
    /** LLM_BASE_URL or OPENAI_BASE_URL, scheme, host and port only; null for the provider's own endpoint. */
    readonly endpoint: string | null;
  };
  /** `SQLite in <absolute DATA_DIR>`, or where DATABASE_URL points (no password). */
  readonly state: string;
  readonly auth: string;
  readonly budget: string;
  readonly cache: string;
  readonly router: string;
  readonly datadog: {
    readonly dogstatsd: string;
    readonly traceAgent: string | null;
    readonly api: 'configured' | 'unconfigured';
  };
}

function origin(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'unix:' ? `unix://${parsed.pathname}` : parsed.origin;
  } catch {
    return null;
  }
}

/**
 * What an operator reads first in the logs of a start: the provider (and whether it is simulated), where the state is,
 * how callers are let in, the budget, and where telemetry goes. Only what the settings say; the secrets (keys,
 * DATABASE_URL's password, the webhook secret) are never part of it.
 */
export function startupSummary(config: AppConfig, url: string): StartupSummary {
  const { llm, security, ledger, budget, cache, router, statsd, tracing, datadog } = config;
  const keys = security.apiKeys.length;
  return {
    url,
    llm: {
      provider: llm.provider,
      simulated: llm.provider === 'simulated',
      models: [llm.model, ...llm.fallbackModels],
      endpoint: origin(llm.baseUrl ?? (llm.provider === 'openai' ? llm.openai.baseUrl : undefined)),
    },
    state: ledger.databaseUrl ? databaseTarget(ledger.databaseUrl) : `SQLite in ${resolve(ledger.dataDir)}`,
    auth: security.authDisabled
      ? 'disabled (AUTH_DISABLED=true)'
      : keys > 0
        ? `${String(keys)} API key${keys === 1 ? '' : 's'}`
        : 'a development key generated at boot',
    budget: budget.dailyUsd === undefined ? 'none' : `$${String(budget.dailyUsd)} a day (UTC), ${budget.policy}`,
    cache: cache.mode === 'off' ? 'off' : `${cache.mode}, scope ${cache.scope}`,
    router:
      router.mode === 'off' || router.candidates.length < 2 ? 'off' : `${router.mode}: ${router.candidates.join(', ')}`,
    datadog: {
      dogstatsd: statsd.socketPath ? `unix://${statsd.socketPath}` : `${statsd.host}:${String(statsd.port)}`,
      traceAgent: tracing.enabled ? origin(tracing.agentUrl) : null,
      api: datadog.configured ? 'configured' : 'unconfigured',
    },
  };
}
