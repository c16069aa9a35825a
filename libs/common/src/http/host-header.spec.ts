import { DomainError } from '../errors/domain-error';
import { badHostHeader } from './host-header';

const request = (headers: Record<string, string>, version: string, rawHeaders?: string[]) => {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return { headers, raw: { httpVersionMajor: major, httpVersionMinor: minor, rawHeaders } };
};

describe('badHostHeader', () => {
  it('refuses an HTTP/1.1 request without Host: 400 MALFORMED_REQUEST, and the connection closed', () => {
    const refusal = badHostHeader(request({}, '1.1'));
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST', headers: { connection: 'close' } });
    expect(refusal!.detail).toContain('Host');
  });

  it('takes a Host, an empty one included, and HTTP/1.0 without one (as Node does)', () => {
    expect(badHostHeader(request({ host: 'example.com' }, '1.1'))).toBeUndefined();
    expect(badHostHeader(request({ host: '' }, '1.1'))).toBeUndefined();
    expect(badHostHeader(request({}, '1.0'))).toBeUndefined();
  });

  it('refuses two Host lines, in any case, on any version: Node keeps the first and drops the second', () => {
    for (const [version, second] of [
      ['1.1', 'Host'],
      ['1.1', 'HOST'],
      ['1.0', 'host'],
    ] as const) {
      const refusal = badHostHeader(
        request({ host: 'a.example' }, version, ['Host', 'a.example', 'Accept', '*/*', second, 'b.example']),
      );
      expect(refusal).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST', headers: { connection: 'close' } });
      expect(refusal!.detail).toContain('one Host header');
    }
    // One Host line among others (a header named like it is not it).
    const one = ['Host', 'a.example', 'X-Host', 'b.example', 'Hosts', 'c'];
    expect(badHostHeader(request({ host: 'a.example' }, '1.1', one))).toBeUndefined();
  });
});
