import { createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback server that speaks just enough of PostgreSQL's protocol to let a client in (AuthenticationOk,
 * ReadyForQuery), then never answers a query: what a frozen server or a network partition looks like to a client
 * whose connection is already open. `queries` counts the messages sent after the start-up.
 */
export class HungPostgresServer {
  queries = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    const address = this.server?.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return `postgres://ledger@127.0.0.1:${port}/postgres`;
  }

  async start(): Promise<this> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let started = false;
      socket.on('data', () => {
        if (started) {
          this.queries += 1;
          return;
        }
        started = true;
        const authOk = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
        const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
        socket.write(Buffer.concat([authOk, ready]));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
