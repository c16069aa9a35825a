import { DomainError } from '../errors/domain-error';
import { missingHostHeader } from './host-header';

const request = (headers: Record<string, string>, version: string) => {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return { headers, raw: { httpVersionMajor: major, httpVersionMinor: minor } };
};

describe('missingHostHeader', () => {
  it('refuses an HTTP/1.1 request without Host: 400 MALFORMED_REQUEST, and the connection closed', () => {
    const refusal = missingHostHeader(request({}, '1.1'));
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST', headers: { connection: 'close' } });
    expect(refusal!.detail).toContain('Host');
  });

  it('takes a Host, an empty one included, and HTTP/1.0 without one (as Node does)', () => {
    expect(missingHostHeader(request({ host: 'example.com' }, '1.1'))).toBeUndefined();
    expect(missingHostHeader(request({ host: '' }, '1.1'))).toBeUndefined();
    expect(missingHostHeader(request({}, '1.0'))).toBeUndefined();
  });
});
