import { connect } from 'node:net';
import { ServiceProcess } from './support/service-process';

/** Sends raw bytes to the service and reads until it closes the connection. */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  });
}

describe("requests Node's HTTP parser refuses (built service)", () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await new ServiceProcess({ DD_TRACE_ENABLED: 'false' }).start();
  });
  afterAll(() => service.stop());

  it('headers over 16 KB: 431 problem+json, and the service keeps answering', async () => {
    const answer = await raw(service.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toContain('application/problem+json');
    expect(answer).toContain('"code":"HEADERS_TOO_LARGE"');
    expect(answer).not.toContain('aaaaaaaa');
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it('a malformed request line: 400 problem+json', async () => {
    const answer = await raw(service.url, 'G\u0001T / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"MALFORMED_REQUEST"');
  });
});
