import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeyEntry, TEST_API_KEYS } from './support/api-keys';
import { ServiceProcess } from './support/service-process';

/**
 * The line that says the service is up also says what it runs with (docs/operations.md, "Running"): the provider and
 * whether it is simulated, where the state is, how callers get in, the budget, where telemetry goes; never a secret.
 */
describe('startup log line', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp startup '));
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('names the provider (simulated), the state dir, the auth, the budget and the agent, and no secret', async () => {
    const secrets = {
      DD_API_KEY: 'startup-dd-api-key-0000000001',
      DD_APP_KEY: 'startup-dd-app-key-0000000002',
      INCIDENTS_WEBHOOK_SECRET: 'startup-webhook-secret-00000003',
    };
    service = await new ServiceProcess({
      DATA_DIR: dataDir,
      AUTH_DISABLED: 'false',
      API_KEYS: apiKeyEntry('ops', ['invoke', 'read'], TEST_API_KEYS.all),
      DAILY_BUDGET_USD: '12.5',
      BUDGET_POLICY: 'enforce',
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: '18125',
      LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite',
      ...secrets,
    }).start();

    const line = service.logs().find((l) => l.context === 'Bootstrap');
    expect(line?.startup).toEqual({
      url: service.url,
      llm: {
        provider: 'simulated',
        simulated: true,
        models: ['gemini-2.5-flash', 'gemini-2.5-flash-lite'],
        endpoint: null,
      },
      state: `SQLite in ${dataDir}`,
      auth: '1 API key',
      budget: '$12.5 a day (UTC), enforce',
      cache: 'off',
      router: 'off',
      datadog: { dogstatsd: '127.0.0.1:18125', traceAgent: null, api: 'configured' },
    });
    const output = [...service.stdout, ...service.stderr].join('\n');
    for (const secret of [...Object.values(secrets), TEST_API_KEYS.all]) expect(output).not.toContain(secret);
  }, 60_000);
});
