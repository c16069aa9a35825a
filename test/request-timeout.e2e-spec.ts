import { connect } from 'node:net';
import { ServiceProcess } from './support/service-process';

/**
 * Writes `request` and then nothing more (the connection stays open, as a slow or hostile client leaves it), and
 * reads until the service closes it: what it answered and after how long.
 */
function stalled(url: string, request: string): Promise<{ answer: string; afterMs: number }> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () =>
      resolve({ answer: Buffer.concat(chunks).toString('utf8'), afterMs: Date.now() - started }),
    );
    socket.on('error', reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error('still open after 15 s')));
  });
}

describe('a request that does not arrive in time (HTTP_REQUEST_TIMEOUT_MS, built service)', () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      AUTH_DISABLED: 'true',
      HTTP_REQUEST_TIMEOUT_MS: '1000',
    }).start();
  });
  afterAll(() => service.stop());

  it('a body that stops half-way (no key needed): 408 problem+json within the limit and a second, then closed', async () => {
    const body = JSON.stringify({ prompt: 'Why do leaves change colour in autumn?' });
    const { answer, afterMs } = await stalled(
      service.url,
      `POST /reason HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n` +
        body.slice(0, 10),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('application/problem+json');
    expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
    expect(afterMs).toBeGreaterThanOrEqual(950);
    expect(afterMs).toBeLessThan(4000);
  });

  it('headers that never end: 408 too', async () => {
    const { answer } = await stalled(service.url, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: a');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('does not cut an answer that takes longer than the limit once the request has arrived', async () => {
    // The drill adds a second to the call: each answer takes longer than the 1 s limit; three back to back on one
    // keep-alive connection.
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await fetch(`${service.url}/reason?simulate_latency=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Why is the sky blue?' }),
      });
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThan(1000);
    }
  });
});
