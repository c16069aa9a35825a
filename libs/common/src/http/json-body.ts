import secureJson from 'secure-json-parse';
import { DomainError } from '../errors/domain-error';

/** The one media type request bodies are accepted in. */
export const JSON_MEDIA_TYPE = 'application/json';

/** What a body parser sees of the request. */
export interface BodyRequestLike {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Parses a JSON request body, or says precisely what is wrong with it as a problem the global filter renders:
 * 415 for a compressed body (nothing here inflates it), 400 for an empty body, for invalid JSON (what was
 * expected and where, never an excerpt of the body: it may hold a secret) and for a `__proto__` or
 * `constructor.prototype` key (refused, as prototype poisoning).
 */
export function parseJsonBody(request: BodyRequestLike, body: string): unknown {
  const encoding = headerValue(request.headers['content-encoding']);
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new DomainError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Encoding '${printable(encoding)}' is not supported: send the JSON body uncompressed.`,
      { errors: [{ field: 'content-encoding', reason: 'only an uncompressed (identity) body is accepted' }] },
    );
  }
  try {
    return secureJson.parse(body, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    // Told apart only once parsing failed: the request path does not scan every body for it.
    if (body.trim().length === 0) {
      throw new DomainError('MALFORMED_REQUEST', 'The body is empty: send a JSON object.', {
        errors: [{ field: 'body', reason: 'is empty' }],
      });
    }
    const reason = invalidJsonReason(error, body.length);
    throw new DomainError('MALFORMED_REQUEST', `The body is not valid JSON: ${reason}.`, {
      errors: [{ field: 'body', reason }],
    });
  }
}

/** The 415 for a body in another media type (form-encoded, text, XML...), naming what was sent. */
export function unsupportedMediaType(contentType: string | undefined): DomainError {
  const sent = contentType === undefined || contentType === '' ? 'none' : `'${printable(contentType)}'`;
  return new DomainError(
    'UNSUPPORTED_MEDIA_TYPE',
    `Content-Type ${sent} is not supported: send the body as JSON with Content-Type: ${JSON_MEDIA_TYPE}.`,
    { errors: [{ field: 'content-type', reason: `must be ${JSON_MEDIA_TYPE}` }] },
  );
}

function invalidJsonReason(error: unknown, length: number): string {
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('Object contains forbidden prototype property')) {
    return 'it contains a "__proto__" or "constructor.prototype" key, which is refused';
  }
  if (message.includes('end of JSON input')) return `it ends early, after ${length} characters`;
  // V8 names the token it met, then quotes the body around it (dropped: it may hold a secret), or says what it
  // expected and where ("Expected ',' or '}' after property value in JSON at position 15 (line 1 column 16)").
  const token = /^Unexpected token '(.)'/u.exec(message)?.[1];
  if (token !== undefined) return `unexpected character '${printable(token)}'`;
  const expected = /^([\w ',{}[\]:"-]{1,120}?)(?: in JSON)? (at position \d+(?: \(line \d+ column \d+\))?)/.exec(
    message,
  );
  return expected ? `${lowerFirst(expected[1]!)} ${expected[2]!}` : 'it cannot be parsed';
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A header value fit to quote in a message: bounded and printable ASCII. */
function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}
