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

  it('an HTTP/1.1 request without Host: 400 problem+json with the security headers, then the connection closed', async () => {
    // Node's own check answered a bare 400 with an empty chunked body; the app makes it now (create-app.ts).
    const answer = await raw(service.url, 'GET /health HTTP/1.1\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const [head, body] = answer.split('\r\n\r\n') as [string, string];
    expect(head).toMatch(/^content-type: application\/problem\+json/im);
    expect(head).toMatch(/^x-content-type-options: nosniff/im);
    expect(head).toMatch(/^connection: close/im);
    expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST', instance: '/health' });
    // An empty Host is a Host, and HTTP/1.0 needs none.
    expect(await raw(service.url, 'GET /health HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 200 /,
    );
    expect(await raw(service.url, 'GET /health HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('two Host lines: 400 problem+json (Node kept the first and answered as if there were one)', async () => {
    const answer = await raw(service.url, 'GET /health HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const [head, body] = answer.split('\r\n\r\n') as [string, string];
    expect(head).toMatch(/^connection: close/im);
    expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
  });

  it('a malformed request line: 400 problem+json', async () => {
    const answer = await raw(service.url, 'G\u0001T / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"MALFORMED_REQUEST"');
  });
});
