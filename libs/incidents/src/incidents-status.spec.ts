import { testConfig } from '../../../test/support/app-config';
import { datadogDestination, IncidentsService } from './incidents.service';
import type { IncidentOutboxStore } from './outbox/incident-outbox.port';

/** `GET /incidents/status` with the Datadog adapter configured, on an outbox holding one pending row. */
async function statusMessage(env: Record<string, string>): Promise<string> {
  const store = {
    stats: () =>
      Promise.resolve({
        pending: 1,
        delivering: 0,
        delivered: 4,
        failed: 0,
        oldestPendingAgeMs: 1000,
        openIncidents: 2,
        oldestOpenAgeMs: 60_000,
      }),
    lastErrors: () => Promise.resolve([]),
  } as unknown as IncidentOutboxStore;
  const config = testConfig({ DD_API_KEY: 'dummy-api-key-status', DD_APP_KEY: 'dummy-app-key-status', ...env });
  const service = new IncidentsService(
    store,
    {} as never,
    {} as never,
    {} as never,
    { name: 'datadog' } as never,
    config,
    {} as never,
  );
  return (await service.status()).message;
}

describe('GET /incidents/status names the destination the adapter calls', () => {
  it('the API host of DD_SITE by default', async () => {
    expect(await statusMessage({})).toBe(
      'Incidents go to Datadog (api.datadoghq.com) through the outbox: 1 waiting, 0 refused for good',
    );
    expect(await statusMessage({ DD_SITE: 'datadoghq.eu' })).toContain('Datadog (api.datadoghq.eu)');
  });

  it('the host of DATADOG_API_URL when it is set, not the site', async () => {
    const message = await statusMessage({ DATADOG_API_URL: 'http://127.0.0.1:3551' });
    expect(message).toContain('Datadog (127.0.0.1:3551) through the outbox');
    expect(message).not.toContain('datadoghq.com');
  });

  it('the host only: never a user, password, path or query of the URL', async () => {
    const message = await statusMessage({
      DD_SITE: 'us5.datadoghq.com',
      DATADOG_API_URL: 'https://proxyuser:proxy-pass-1234@dd-proxy.internal.example:8443/datadog/?token=abc123',
    });
    expect(message).toContain('Datadog (dd-proxy.internal.example:8443) through the outbox');
    for (const part of ['proxyuser', 'proxy-pass-1234', '/datadog', 'abc123', 'us5.datadoghq.com'])
      expect(message).not.toContain(part);
    expect(datadogDestination('not a url')).toBe('the host of DATADOG_API_URL');
  });
});
