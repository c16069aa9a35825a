import dgram from 'node:dgram';

export interface StatsdLine {
  raw: string;
  name: string;
  value: number;
  type: string;
  tags: string[];
}

export function parseStatsdLine(raw: string): StatsdLine | undefined {
  // name:value|type[|@rate][|#tags][|c:container][|T:timestamp]
  const [head, type, ...fields] = raw.split('|');
  const colon = head?.lastIndexOf(':') ?? -1;
  if (!head || !type || colon <= 0) return undefined;
  const tagField = fields.find((f) => f.startsWith('#'));
  return {
    raw,
    name: head.slice(0, colon),
    value: Number(head.slice(colon + 1)),
    type,
    tags: tagField ? tagField.slice(1).split(',') : [],
  };
}

/** A real UDP socket on 127.0.0.1 collecting the DogStatsD lines the service sends. */
export class DogStatsdReceiver {
  readonly lines: StatsdLine[] = [];
  private socket = dgram.createSocket('udp4');
  port = 0;

  async start(): Promise<this> {
    this.socket.on('message', (message) => {
      for (const raw of message.toString('utf8').split('\n')) {
        const line = raw.trim() ? parseStatsdLine(raw.trim()) : undefined;
        if (line) this.lines.push(line);
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
