import { clientErrorResponse } from './client-errors';

function parse(raw: string): { status: number; headers: string; body: Record<string, unknown> } {
  const [head, body] = raw.split('\r\n\r\n');
  return {
    status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head!)![1]),
    headers: head!,
    body: JSON.parse(body!) as Record<string, unknown>,
  };
}

describe("clientErrorResponse: what Node's parser refuses is answered problem+json", () => {
  it('headers too large: 431 HEADERS_TOO_LARGE, connection closed, the length right', () => {
    const raw = clientErrorResponse({ code: 'HPE_HEADER_OVERFLOW' });
    const { status, headers, body } = parse(raw);
    expect(status).toBe(431);
    expect(headers).toContain('Content-Type: application/problem+json');
    expect(headers).toContain('Connection: close');
    expect(body).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE', type: 'urn:lrcp:problem:headers-too-large' });
    const length = Number(/Content-Length: (\d+)/.exec(headers)![1]);
    expect(length).toBe(Buffer.byteLength(raw.split('\r\n\r\n')[1]!));
  });

  it('a timeout is 408; anything else 400 MALFORMED_REQUEST', () => {
    expect(parse(clientErrorResponse({ code: 'ERR_HTTP_REQUEST_TIMEOUT' })).body).toMatchObject({ status: 408 });
    expect(parse(clientErrorResponse({ code: 'HPE_INVALID_METHOD' })).body).toMatchObject({
      status: 400,
      code: 'MALFORMED_REQUEST',
    });
  });
});
