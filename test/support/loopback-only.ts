/**
 * Jest setup: any TCP connection or UDP datagram to an address outside the loopback range fails the test
 * loudly instead of leaving this machine. (Tests run real SDKs against servers on 127.0.0.1.)
 */
import dgram from 'node:dgram';
import net from 'node:net';

export function isLoopback(host: string | undefined): boolean {
  if (host === undefined || host === '' || host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  return bare.startsWith('127.') || bare === '::1' || bare === '::ffff:127.0.0.1';
}

type ConnectArgs = [unknown, ...unknown[]];

const originalConnect = net.Socket.prototype.connect as (...args: unknown[]) => net.Socket;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: ConnectArgs): net.Socket {
  const [first, second] = args;
  let host: string | undefined;
  let path: string | undefined;
  if (Array.isArray(first)) {
    const options = first[0] as { host?: string; path?: string };
    host = options?.host;
    path = options?.path;
  } else if (typeof first === 'object' && first !== null) {
    host = (first as { host?: string }).host;
    path = (first as { path?: string }).path;
  } else if (typeof first === 'string' && !/^\d+$/.test(first)) {
    path = first;
  } else if (typeof second === 'string') {
    host = second;
  }
  if (!path && !isLoopback(host)) {
    throw new Error(`test guard: refused a TCP connection to non-loopback host ${String(host)}`);
  }
  return originalConnect.apply(this, args);
};

const originalSend = dgram.Socket.prototype.send as (...args: unknown[]) => void;
dgram.Socket.prototype.send = function guardedSend(this: dgram.Socket, ...args: unknown[]): void {
  const address = args.find((a, i) => i > 0 && typeof a === 'string' && !/^\d+$/.test(a)) as string | undefined;
  if (address !== undefined && !isLoopback(address)) {
    throw new Error(`test guard: refused a UDP datagram to non-loopback host ${address}`);
  }
  originalSend.apply(this, args);
} as typeof dgram.Socket.prototype.send;
