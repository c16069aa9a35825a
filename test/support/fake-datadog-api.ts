import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** One request the fake Datadog API received, its JSON body parsed (or the raw text when it is not JSON). */
export interface DatadogRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** What a route answers. */
export interface DatadogReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type DatadogHandler = (request: DatadogRequest, params: string[]) => DatadogReply | Promise<DatadogReply>;

/**
 * How the server misbehaves, for every route until changed:
 * - `status`: answers `status` (500, 503, 429, ...) with a Datadog-shaped `{errors}` body, without running the route;
 * - `drop-response`: runs the route (its state changes: an incident is created) and then destroys the socket
 *   without answering, as a response lost on the way back would look;
 * - `hang`: accepts the request and never answers (the client's timeout must fire).
 * Refusing connections is `down()` / `up()`: the listener closes and reopens on the same port.
 */
export type DatadogFault =
  { mode: 'none' } | { mode: 'status'; status: number } | { mode: 'drop-response' } | { mode: 'hang' };

/**
 * A stand-in for the Datadog REST API on 127.0.0.1 (`DATADOG_API_URL`), for the real `@datadog/datadog-api-client`
 * to talk to. Routes are registered by the tests that need them (incidents, monitors, synthetics, ...); an
 * unregistered route answers 404 like Datadog does. Every request is recorded. Requests without `DD-API-KEY` and
 * `DD-APPLICATION-KEY` headers are refused with 403, as the real API does.
 */
export class FakeDatadogApi {
  readonly requests: DatadogRequest[] = [];
  private readonly routes: { method: string; pattern: RegExp; handler: DatadogHandler }[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private fault: DatadogFault = { mode: 'none' };
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Registers a route; `path` is matched whole (`^...$`), its capture groups are the handler's `params`. */
  route(method: string, path: RegExp | string, handler: DatadogHandler): this {
    const source = typeof path === 'string' ? path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : path.source;
    this.routes.push({ method: method.toUpperCase(), pattern: new RegExp(`^${source}$`), handler });
    return this;
  }

  setFault(fault: DatadogFault): void {
    this.fault = fault;
  }

  /** Requests whose method and path match. */
  received(method: string, path: RegExp | string): DatadogRequest[] {
    return this.requests.filter(
      (r) => r.method === method.toUpperCase() && (typeof path === 'string' ? r.path === path : path.test(r.path)),
    );
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    return this;
  }

  /** Stops listening and drops every open connection: new connections are refused (ECONNREFUSED). */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    if (this.server) return;
    await this.start(this.port);
  }

  close(): Promise<void> {
    return this.down();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request: DatadogRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    this.requests.push(request);

    const fault = this.fault;
    if (fault.mode === 'hang') return;
    if (fault.mode === 'status') {
      send(res, { status: fault.status, body: { errors: [`fake Datadog API: injected ${fault.status}`] } });
      return;
    }
    // GET /api/v1/validate checks the API key alone (the SDK sends no application key there), as the real API does.
    const needsAppKey = request.path !== '/api/v1/validate';
    if (!req.headers['dd-api-key'] || (needsAppKey && !req.headers['dd-application-key'])) {
      send(res, { status: 403, body: { errors: ['Forbidden'] } });
      return;
    }
    const route = this.routes.find((r) => r.method === request.method && r.pattern.test(request.path));
    if (!route) {
      send(res, { status: 404, body: { errors: ['Not Found'] } });
      return;
    }
    let reply: DatadogReply;
    try {
      reply = await route.handler(request, route.pattern.exec(request.path)!.slice(1));
    } catch (error) {
      reply = { status: 500, body: { errors: [`fake Datadog API handler failed: ${String(error)}`] } };
    }
    if (fault.mode === 'drop-response') {
      req.socket.destroy();
      return;
    }
    send(res, reply);
  }
}

function send(res: ServerResponse, reply: DatadogReply): void {
  const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...(payload ? { 'content-type': 'application/json' } : {}),
    ...reply.headers,
  });
  res.end(payload);
}
