import { DomainError } from '../errors/domain-error';

/** What the Host check reads of a request (Fastify's request). */
export interface HostedRequest {
  readonly headers: Readonly<Record<string, unknown>>;
  readonly raw: { readonly httpVersionMajor: number; readonly httpVersionMinor: number };
}

/**
 * 400 `MALFORMED_REQUEST` for an HTTP/1.1 request without a Host header (RFC 9112, section 3.2: the server MUST
 * answer 400), then the connection is closed. Node makes this check itself, before any of the app runs, and answers
 * a bare 400 with an empty body and none of the security headers: the app turns it off (`http.requireHostHeader:
 * false`) and makes it here, in an `onRequest` hook, so the refusal is problem+json like every other. HTTP/1.0
 * needs no Host, and an empty one is a Host (a target without an authority), as for Node. Undefined when fine.
 */
export function missingHostHeader(request: HostedRequest): DomainError | undefined {
  if (request.headers.host !== undefined) return undefined;
  if (request.raw.httpVersionMajor !== 1 || request.raw.httpVersionMinor !== 1) return undefined;
  return new DomainError(
    'MALFORMED_REQUEST',
    'An HTTP/1.1 request needs a Host header (RFC 9112, section 3.2).',
    {},
    { connection: 'close' },
  );
}
