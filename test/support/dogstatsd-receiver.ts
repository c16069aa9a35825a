import dgram from 'node:dgram';

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
    this.socket.on('message', (message) => {
      for (const raw of message.toString('utf8').split('\n')) {
        if (raw.trim()) this.lines.push(...parseStatsdLines(raw.trim()));
      }
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.port = this.socket.address().port;
    return this;
  }

  named(name: string): StatsdLine[] {
    return this.lines.filter((l) => l.name === name);
  }

  async waitFor(predicate: (lines: StatsdLine[]) => boolean, timeoutMs = 5000): Promise<StatsdLine[]> {
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
