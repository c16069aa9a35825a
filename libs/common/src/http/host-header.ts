import { DomainError } from '../errors/domain-error';

/** What the Host check reads of a request (Fastify's request). */
export interface HostedRequest {
  readonly headers: Readonly<Record<string, unknown>>;
  readonly raw: {
    readonly httpVersionMajor: number;
    readonly httpVersionMinor: number;
    /** Names and values, alternating, as received (Node keeps only the first of duplicate Host lines in `headers`). */
    readonly rawHeaders?: readonly string[];
  };
}

/**
 * 400 `MALFORMED_REQUEST` for an HTTP/1.1 request without a Host header, or for any request with more than one Host
 * line (RFC 9112, section 3.2: the server MUST answer 400 to both; Node keeps the first of two and goes on, so a
 * proxy that routed on the second and this service would disagree on the target), then the connection is closed. Node makes this check itself, before any of the app runs, and answers
 * a bare 400 with an empty body and none of the security headers: the app turns it off (`http.requireHostHeader:
 * false`) and makes it here, in an `onRequest` hook, so the refusal is problem+json like every other. HTTP/1.0
 * needs no Host, and an empty one is a Host (a target without an authority), as for Node. Undefined when fine.
 */
export function badHostHeader(request: HostedRequest): DomainError | undefined {
  if (request.headers.host !== undefined) return hostLines(request.raw.rawHeaders) > 1 ? duplicateHost() : undefined;
  if (request.raw.httpVersionMajor !== 1 || request.raw.httpVersionMinor !== 1) return undefined;
  return new DomainError(
    'MALFORMED_REQUEST',
    'An HTTP/1.1 request needs a Host header (RFC 9112, section 3.2).',
    {},
    { connection: 'close' },
  );
}

function hostLines(raw: readonly string[] | undefined): number {
  let lines = 0;
  if (raw === undefined) return lines;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') lines++;
  }
  return lines;
}

function duplicateHost(): DomainError {
  return new DomainError(
    'MALFORMED_REQUEST',
    'A request may carry one Host header, not several (RFC 9112, section 3.2).',
    {},
    { connection: 'close' },
  );
}
