import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';

import { Logger as NestLogger } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import {
  FrameworkErrorResponder,
  handleClientError,
  JSON_MEDIA_TYPE,
  markCutAtShutdown,
  refusedWhileStopping,
  sayLastWords,
  badHostHeader,
  parseJsonBody,
  routeJsonBodyLimits,
} from '@app/common';
import type { AppConfig } from '@app/config';
import { configureHttpSecurity } from '@app/security';
import { AppModule } from './app.module';
import { setupOpenApi } from './openapi/openapi';

/** Nest's adapter's hook that sets the headers of `app.useSecurityHeaders` on a response. */
type SecurityHook = (request: FastifyRequest, response: FastifyReply['raw']) => unknown;

export interface CreateAppOptions {
  /** Replace nestjs-pino as the Nest logger (tests and CLI tools); default: the JSON logger. */
  quiet?: boolean;
}

/** Builds the application (not listening): Fastify with JSON bodies only, JSON logs, OpenAPI at /docs. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  // The router's own errors (a path that is not UTF-8, an over-long parameter) answer problem+json too.
  const frameworkErrors = new FrameworkErrorResponder();
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    // Fastify's own answer to a request arriving while it closes is a bare JSON 503 (no `code`, no `Retry-After`, no
    // security headers): off, `refuseWhileStopping` answers it instead, as problem+json.
    return503OnClosing: false,
    // A request must arrive whole in time, else 408 (`handleClientError`): Fastify's default is no limit, so a
    // client sending its body a byte at a time held a connection (and its memory) for as long as it liked. Node
    // checks every 30 s by default; every second here, so the limit is what it says.
    requestTimeout: config.http.requestTimeoutMs,
    // Node's own Host check answers a bare 400 (empty, without the security headers) before any of the app: off,
    // the app makes it instead (`requireHostHeader` below), as problem+json.
    http: {
      connectionsCheckingInterval: 1000,
      headersTimeout: Math.min(60_000, config.http.requestTimeoutMs),
      requireHostHeader: false,
    },
    // The router's errors (a malformed URL: 400, an over-long parameter: 414) come before any hook. Nest's own handler
    // runs the security headers' hook for them (`app.useSecurityHeaders`); this one replaces it, so it runs it too.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply): void => {
      try {
        (adapter as unknown as { securityHook?: SecurityHook }).securityHook?.(request, reply.raw);
      } catch {
        // Refused either way; a throw here would escape the router.
      }
      frameworkErrors.handler(error, request, reply);
    },
    // Node's parser errors (headers over 16 KB, a malformed request line) answer problem+json too, not a bare 431.
    clientErrorHandler: handleClientError,
    // The client IP of the per-IP rate limit: X-Forwarded-For only from as many proxies as TRUST_PROXY_HOPS says.
    trustProxy:
      config.http.trustProxyHops > 0 ? (_address: string, hop: number) => hop < config.http.trustProxyHops : false,
  });
  // Nest's lines are held until the JSON logger takes them. If the modules fail to build, they are dropped, not
  // flushed: Nest would print them, and its trace of the error, through its coloured console logger (on stdout,
  // where every line must be JSON); main.ts tells the failure on stderr.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: !options.quiet,
    autoFlushLogs: false,
    logger: options.quiet ? false : undefined,
    abortOnError: false,
    // Nest's parsers (JSON, and form-encoded bodies nothing here takes) are replaced by `acceptJsonBodiesOnly`.
    bodyParser: false,
  });
  if (!options.quiet) {
    app.useLogger(app.get(Logger));
    app.flushLogs();
  }
  frameworkErrors.bind(app);
  const stop = refuseWhileStopping(app);
  requireHostHeader(app);
  acceptJsonBodiesOnly(app, config.http.bodyLimitBytes);
  configureHttpSecurity(app);
  exitOnSignal(app, drainOnShutdown(app, config.http.shutdownGraceMs, stop));
  setupOpenApi(app, config);
  return app;
}

/** Whether the server is stopping: set on the first stop signal, or when the app closes some other way. */
interface StopState {
  readonly stopping: boolean;
  begin(): void;
}

/**
 * From the stop signal on (or Fastify's close, for an app closed without one), a request that still arrives on a
 * connection left open (pipelined behind a call in flight, its headers still arriving at the signal) is refused with
 * 503 problem+json `SERVER_SHUTTING_DOWN`, `Retry-After: 1` and `Connection: close`, before any other hook of the
 * app's (no key check, no rate-limit token spent). It was served in the seconds before Nest closed Fastify, then
 * answered Fastify's bare 503 (`return503OnClosing`).
 */
function refuseWhileStopping(app: NestFastifyApplication): StopState {
  const fastify = app.getHttpAdapter().getInstance();
  let stopping = false;
  fastify.addHook('onRequest', (_request, _reply, done) => {
    if (stopping) done(refusedWhileStopping());
    else done();
  });
  fastify.addHook('preClose', (done) => {
    stopping = true;
    done();
  });
  return {
    get stopping() {
      return stopping;
    },
    begin: () => {
      stopping = true;
    },
  };
}

/**
 * An HTTP/1.1 request without a Host header is a 400 problem+json (RFC 9112), Node's own check being off
 * (`http.requireHostHeader: false`). The first hook of the app's own: after Nest's security headers, before the
 * key checks of the docs routes and any controller.
 */
function requireHostHeader(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, _reply, done) => {
      const refusal = badHostHeader(request);
      if (refusal) done(refusal);
      else done();
    });
}

/**
 * Every body the API takes is JSON. Fastify's other built-in parser (text/plain) goes, so a body of any other
 * type (`curl -d` sends form-encoded) is a 415 naming the type sent, not a confusing list of invalid fields;
 * JSON errors say what is wrong and where, and a body too deep or too wide for its purpose is refused before it
 * is parsed (`parseJsonBody`).
 */
function acceptJsonBodiesOnly(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  // Read as bytes: `parseJsonBody` refuses a body that is not UTF-8 instead of decoding it with U+FFFD in place.
  fastify.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    try {
      done(null, parseJsonBody(request, body, routeJsonBodyLimits(request.routeOptions.config)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/** The signals that stop the service cleanly, with their numbers (the exit code is 128 + the number). */
const STOP_SIGNALS = { SIGTERM: 15, SIGINT: 2, SIGHUP: 1 } as const;

/** How long a stopping process waits for its last telemetry to leave before it exits anyway. */
const EXIT_DRAIN_MS = 3000;

/**
 * On SIGTERM, SIGINT or SIGHUP: close the app (every shutdown hook runs: in-flight calls finish, the ledger, the
 * metrics and the upstream pools are flushed and closed), then let the process end by itself with the
 * conventional exit code 128 + signal number. Ending by itself, it emits 'beforeExit', on which dd-trace sends
 * the traces and LLM Observability events it still holds, then 'exit', on which the asynchronous log buffer is
 * written. If something still holds the event loop, it exits after EXIT_DRAIN_MS anyway ('exit' handlers run
 * then too). Nest's own shutdown hooks re-raise the signal instead, which killed the process with up to 250 ms of
 * log lines and up to 2 s of traces unsent.
 *
 * A second signal while stopping (Ctrl-C twice, a second `kill`) means "now": the connections still open are cut at
 * once, as when SHUTDOWN_GRACE_MS runs out (their calls recorded as cut by the shutdown), and the stop goes on as
 * above. The listeners stay until the process ends: with `once`, the second signal met Node's default action and
 * killed the process there, its calls in flight never recorded, the ledger's buffer and the log lines lost.
 */
function exitOnSignal(app: NestFastifyApplication, drain: Drain): void {
  let stopping = false;
  const handlers = Object.entries(STOP_SIGNALS).map(([signal, number]) => {
    const handler = (): void => {
      if (stopping) {
        const cut = drain.cutNow();
        if (cut > 0)
          new NestLogger('Shutdown').warn(
            `${signal} again while stopping: the ${String(cut)} connection${cut === 1 ? '' : 's'} still open cut now, before SHUTDOWN_GRACE_MS`,
          );
        return;
      }
      stopping = true;
      // The deploy's first line in the logs: what stopping means for the calls still running.
      new NestLogger('Shutdown').log(
        `${signal}: stopping; no new connection is taken, calls in flight have SHUTDOWN_GRACE_MS (${String(drain.graceMs)} ms) to finish before their connections are cut (a second signal cuts them now)`,
      );
      app.close().then(
        () => {
          process.exitCode = 128 + number;
          setTimeout(() => process.exit(128 + number), EXIT_DRAIN_MS).unref();
        },
        (error: unknown) => {
          process.stderr.write(
            `shutdown failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
          );
          process.exit(1);
        },
      );
      drain.begin();
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  removeOnClose(app, handlers, () => !stopping);
}

/** An app closed some other way (tests, tools) leaves no signal listener behind. */
function removeOnClose(
  app: NestFastifyApplication,
  handlers: readonly (readonly [string, () => void])[],
  closedWithoutSignal: () => boolean,
): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onClose', (_instance, done) => {
      if (closedWithoutSignal()) for (const [signal, handler] of handlers) process.removeListener(signal, handler);
      done();
    });
}

/** How long the streams cut at shutdown have to write their last event before their connections close. */
const LAST_WORDS_MS = 1000;

/** The drain of the HTTP server at shutdown: begun on the first stop signal; `cutNow` ends its grace early. */
interface Drain {
  readonly graceMs: number;
  begin(): void;
  /** Cuts the connections still open now; how many there were. */
  cutNow(): number;
}

/**
 * Graceful shutdown: on SIGTERM, SIGINT or SIGHUP (the signals of `exitOnSignal`), the listening socket closes at
 * once (a new connection is refused) and Nest closes the app: idle keep-alive connections are closed, a request arriving
 * on a busy keep-alive connection gets 503 problem+json `SERVER_SHUTTING_DOWN` (`refuseWhileStopping`), and in-flight ones finish. Responses sent from then on carry
 * `Connection: close`, so keep-alive clients do not hold the server open; connections still open after
 * SHUTDOWN_GRACE_MS are cut (their calls are still recorded, as aborted by the shutdown, 503: CallBookkeeping waits
 * for them); a stream among them first ends with an error event saying the server is shutting down.
 */
function drainOnShutdown(app: NestFastifyApplication, graceMs: number, stop: StopState): Drain {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (stop.stopping) void reply.header('connection', 'close');
    done(null, payload);
  });
  // The open connections, so that the ones cut at the end of the grace period are known as cut by us (their calls'
  // records say `shutdown` and 503, not the client's 499): one entry per connection, not per request.
  const open = new Set<Socket>();
  fastify.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  let grace: NodeJS.Timeout | undefined;
  const cutNow = (): number => {
    if (grace) clearTimeout(grace);
    const cut = open.size;
    markCutAtShutdown(open);
    // A stream still open says why it ends (its last event: the server is shutting down) before its connection is
    // cut; a client that reads nothing does not hold the stop for more than LAST_WORDS_MS.
    const said = sayLastWords(open);
    if (said.length === 0) fastify.server.closeAllConnections();
    else {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, LAST_WORDS_MS)));
      void Promise.race([Promise.all(said), bound]).then(() => {
        clearTimeout(timer);
        fastify.server.closeAllConnections();
      });
    }
    return cut;
  };
  return {
    graceMs,
    begin: () => {
      stop.begin();
      // The listening socket closes now, not when Nest gets to closing the server: it runs every module's
      // beforeApplicationShutdown first, and the incident worker's waits up to 5 s for a delivery under way (a
      // Datadog that does not answer), while the stopping process took new connections and said `ready`. Fastify's
      // own close, later, finds it closed (ERR_SERVER_NOT_RUNNING, which it ignores) and waits for the connections.
      fastify.server.close();
      fastify.server.closeIdleConnections();
      grace = setTimeout(cutNow, graceMs).unref();
    },
    cutNow,
  };
}
