import type { Duplex } from 'node:stream';
import { HTTP_ERRORS, type HttpErrorCode } from './error-codes';
import { PROBLEM_CONTENT_TYPE } from './problem';

/** Node's HTTP parser errors (`clientError`), answered before any request object exists, by their code. */
const CLIENT_ERRORS: Readonly<Record<string, { code: HttpErrorCode; detail: string }>> = {
  HPE_HEADER_OVERFLOW: {
    code: 'HEADERS_TOO_LARGE',
    detail: 'The request headers are larger than the server takes (16 KB in all).',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', detail: 'The request was not received in time.' },
  ERR_HTTP_HEADERS_TIMEOUT: { code: 'REQUEST_TIMEOUT', detail: 'The request headers were not received in time.' },
};

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * The raw HTTP/1.1 answer to a request Node's parser refused (headers too large, a malformed request line, a
 * timeout): problem+json like every other error, then the connection is closed. It quotes no part of the request.
 */
export function clientErrorResponse(error: { code?: string }): string {
  const known = error.code ? CLIENT_ERRORS[error.code] : undefined;
  const def = HTTP_ERRORS[known?.code ?? 'MALFORMED_REQUEST'];
  const body = JSON.stringify({
    type: def.type,
    title: def.title,
    status: def.status,
    detail: known?.detail ?? 'The request could not be parsed as HTTP/1.1.',
    code: def.code,
  });
  return (
    `HTTP/1.1 ${def.status} ${REASONS[def.status] ?? 'Bad Request'}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Fastify's `clientErrorHandler`: answers on the socket while it can still be written, then closes it. */
export function handleClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (socket.writable) socket.end(clientErrorResponse(error));
  else socket.destroy();
}
