import { BootError } from '@app/config';
import { bootFailure, listenError } from './boot-failure';

const HTTP = { host: '127.0.0.1', port: 3504 };

function socketError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code} 127.0.0.1:3504`), { code, syscall });
}

describe('bootFailure', () => {
  it('tells a BootError on one line naming its variable, exit 78', () => {
    const failure = bootFailure(new BootError('DATA_DIR', '/etc/hostname is a file, not a directory'), HTTP);
    expect(failure).toEqual({
      message: 'Failed to start: DATA_DIR: /etc/hostname is a file, not a directory',
      exitCode: 78,
    });
  });

  it('tells the listening errors as the setting that caused them', () => {
    expect(bootFailure(socketError('EADDRINUSE', 'listen'), HTTP)).toEqual({
      message: 'Failed to start: PORT: 127.0.0.1:3504 is already in use by another process (EADDRINUSE)',
      exitCode: 78,
    });
    expect(listenError(socketError('EADDRINUSE', 'listen'), { host: '::1', port: 80 })?.message).toBe(
      'PORT: [::1]:80 is already in use by another process (EADDRINUSE)',
    );
    expect(listenError(socketError('EACCES', 'listen'), { host: '0.0.0.0', port: 80 })?.message).toBe(
      'PORT: no permission to listen on 0.0.0.0:80 (EACCES: ports below 1024 need privileges)',
    );
    expect(listenError(socketError('EADDRNOTAVAIL', 'listen'), { host: '10.1.2.3', port: 80 })?.message).toBe(
      'HOST: 10.1.2.3 is not an address of this machine (EADDRNOTAVAIL)',
    );
    expect(listenError(socketError('ENOTFOUND', 'getaddrinfo'), { host: 'nohost', port: 80 })?.message).toBe(
      'HOST: nohost cannot be resolved to an address (ENOTFOUND)',
    );
  });

  it('leaves other errors, even with a socket code, to the stack trace and exit 1', () => {
    expect(listenError(socketError('EACCES', 'open'), HTTP)).toBeUndefined();
    const failure = bootFailure(new TypeError('x is not a function'), HTTP);
    expect(failure.exitCode).toBe(1);
    expect(failure.message).toMatch(/^Failed to start: TypeError: x is not a function\n\s+at /);
  });
});
