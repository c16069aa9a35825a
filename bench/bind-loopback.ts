/**
 * Preloaded into the Portkey gateway by bench/overhead.ts (`node --import ./bench/bind-loopback.ts ...`): its
 * Node server has no host option and listens on every interface, so `listen()` is forced onto 127.0.0.1; and
 * any outgoing connection to a host other than loopback (telemetry, a remote plugin, a pricing fetch) is
 * refused before its DNS lookup and reported on stderr as `bind-loopback: refused <host>:<port>`, which the
 * benchmark reads back: the peer is measured offline, and a refused connection would be visible.
 */
import net from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

type Variadic<T> = (this: T, ...args: unknown[]) => T;

const listen = net.Server.prototype.listen as Variadic<net.Server>;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]): net.Server {
  const [first] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, cb]): put the host in (or replace it).
    const rest = typeof args[1] === 'string' ? args.slice(2) : args.slice(1);
    return listen.call(this, Number(first), '127.0.0.1', ...rest);
  }
  if (first !== null && typeof first === 'object' && !('path' in first)) {
    return listen.call(this, { ...first, host: '127.0.0.1' }, ...args.slice(1));
  }
  return listen.apply(this, args);
} as typeof net.Server.prototype.listen;

const connect = net.Socket.prototype.connect as Variadic<net.Socket>;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]): net.Socket {
  // connect(options[, cb]), connect(port[, host][, cb]), or Node's internal normalized [options, cb] array.
  const first: unknown = Array.isArray(args[0]) ? args[0][0] : args[0];
  let host: unknown;
  let port: unknown;
  if (first !== null && typeof first === 'object') {
    const options = first as { host?: unknown; port?: unknown; path?: unknown };
    // A Unix socket (IPC) path; http passes `path: null` for TCP.
    if (typeof options.path === 'string' && options.path !== '') return connect.apply(this, args);
    host = options.host ?? 'localhost';
    port = options.port;
  } else {
    port = first;
    host = typeof args[1] === 'string' ? args[1] : 'localhost';
  }
  if (typeof host === 'string' && !LOOPBACK.has(host.replace(/^\[|\]$/g, ''))) {
    process.stderr.write(`bind-loopback: refused ${host}:${String(port)}\n`);
    process.nextTick(() => this.destroy(new Error(`bind-loopback: ${host}:${String(port)} is not loopback`)));
    return this;
  }
  return connect.apply(this, args);
};
