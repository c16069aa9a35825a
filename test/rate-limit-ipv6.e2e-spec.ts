import { TEST_API_KEYS_ENV } from './support/api-keys';
import { ServiceProcess } from './support/service-process';

/**
 * The per-IP limit of callers without a key (RATE_LIMIT_ANONYMOUS_PER_MINUTE, docs/security.md) behind one trusted
 * proxy (TRUST_PROXY_HOPS=1, the client from X-Forwarded-For). An IPv6 client holds a whole /64 and may send from
 * any address in it: counted per address, it got the limit once per address, i.e. no limit at all. It is now
 * counted per /64; IPv4 clients stay per address.
 */
describe('anonymous rate limit: an IPv6 client is counted by its /64', () => {
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await new ServiceProcess({
      AUTH_DISABLED: 'false',
      API_KEYS: TEST_API_KEYS_ENV,
      TRUST_PROXY_HOPS: '1',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3',
    }).start();
  });

  afterAll(async () => {
    await service?.stop();
  });

  const statusFrom = async (client: string): Promise<number> => {
    const response = await fetch(`${service.url}/health`, { headers: { 'x-forwarded-for': client } });
    await response.arrayBuffer();
    return response.status;
  };

  it('refuses a /64 past the limit whatever address in it each request comes from', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i += 1) statuses.push(await statusFrom(`2001:db8:0:1::${i.toString(16)}`));
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    // Another /64 is another client.
    expect(await statusFrom('2001:db8:0:2::1')).toBe(200);
  });

  it('keeps IPv4 clients apart by address', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i += 1) statuses.push(await statusFrom('192.0.2.10'));
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await statusFrom('192.0.2.11')).toBe(200);
  });
});
