import dgram from 'node:dgram';
import { rmSync } from 'node:fs';

export interface StatsdLine {
  raw: string;
  name: string;
  value: number;
  type: string;
  tags: string[];
}

/**
 * Parses one DogStatsD line into one sample per value: `name:value|type[|@rate][|#tags][|c:container][|T:ts]`,
 * and the 1.1 packed form `name:v1:v2:v3|type|...` (several samples of one series), as the agent reads them.
 */
export function parseStatsdLines(raw: string): StatsdLine[] {
  const [head, type, ...fields] = raw.split('|');
  const colon = head?.indexOf(':') ?? -1;
  if (!head || !type || colon <= 0) return [];
  const tagField = fields.find((f) => f.startsWith('#'));
  const tags = tagField ? tagField.slice(1).split(',') : [];
  const name = head.slice(0, colon);
  return head
    .slice(colon + 1)
    .split(':')
    .map((value) => ({ raw, name, value: Number(value), type, tags }));
}

/** A real UDP socket on 127.0.0.1 collecting the DogStatsD lines the service sends. */
export class DogStatsdReceiver {
  readonly lines: StatsdLine[] = [];
  private socket = dgram.createSocket('udp4');
  port = 0;

  async start(): Promise<this> {
    this.socket.on('message', (message) => this.receive(message));
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.port = this.socket.address().port;
    return this;
  }

  protected receive(message: Buffer): void {
    for (const raw of message.toString('utf8').split('\n')) {
      if (raw.trim()) this.lines.push(...parseStatsdLines(raw.trim()));
    }
  }

  named(name: string): StatsdLine[] {
    return this.lines.filter((l) => l.name === name);
  }

  /** Waits until the lines received satisfy `predicate` (a hang guard of 15 s by default, for a loaded runner). */
  async waitFor(predicate: (lines: StatsdLine[]) => boolean, timeoutMs = 15_000): Promise<StatsdLine[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.lines)) {
      if (Date.now() > deadline)
        throw new Error(
          `DogStatsD lines not seen in ${timeoutMs} ms; got:\n${this.lines.map((l) => l.raw).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.lines;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** unix-dgram's socket (hot-shots' optional dependency for `uds`): the one API Node has no built-in for. */
interface UnixDatagramSocket {
  on(event: 'message', listener: (message: Buffer) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  bind(path: string): void;
  close(): void;
}

/**
 * A real unix datagram socket collecting the DogStatsD lines the service sends to it, as the agent's
 * `/var/run/datadog/dsd.socket` does (DD_DOGSTATSD_URL=unix:///…). Bound at `path`, removed on close.
 */
export class UnixDogStatsdReceiver extends DogStatsdReceiver {
  private unixSocket?: UnixDatagramSocket;

  constructor(readonly path: string) {
    super();
  }

  override start(): Promise<this> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const unixDgram = require('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDatagramSocket };
    const socket = unixDgram.createSocket('unix_dgram');
    socket.on('message', (message) => this.receive(message));
    socket.on('error', () => undefined);
    socket.bind(this.path);
    this.unixSocket = socket;
    return Promise.resolve(this);
  }

  get url(): string {
    return `unix://${this.path}`;
  }

  override async close(): Promise<void> {
    this.unixSocket?.close();
    rmSync(this.path, { force: true });
    await super.close(); // the UDP socket made (never bound) by the base class
  }
}
