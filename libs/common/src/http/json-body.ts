import { isUtf8 } from 'node:buffer';
import { RouteConfig } from '@nestjs/platform-fastify';
import secureJson from 'secure-json-parse';
import { DomainError } from '../errors/domain-error';

/** The one media type request bodies are accepted in. */
export const JSON_MEDIA_TYPE = 'application/json';

/**
 * The deepest nesting of arrays and objects a body may have. Every body the API takes is a flat object (depth 1);
 * the bound keeps a hostile body (`[[[[...]]]]`) from reaching the recursive walks after parsing.
 */
export const JSON_MAX_DEPTH = 64;
/**
 * The most object keys in a body, counted over all its objects (the API's bodies have a handful; a route may
 * declare more with `@JsonBodyLimit`: the chat endpoint's conversations).
 */
export const JSON_MAX_KEYS = 1000;
/** The most array items in a body, counted over all its arrays (the API's bodies have none). */
export const JSON_MAX_ARRAY_ITEMS = 1000;

/** How wide a route's body may be: object keys and array items, each counted over the whole body. */
export interface JsonBodyLimits {
  maxKeys: number;
  maxArrayItems: number;
}

/** Every route's, unless it declares its own with `@JsonBodyLimit`. */
export const DEFAULT_JSON_BODY_LIMITS: JsonBodyLimits = { maxKeys: JSON_MAX_KEYS, maxArrayItems: JSON_MAX_ARRAY_ITEMS };

/** The Fastify route config key under which a route declares its own limits (`@JsonBodyLimit`). */
const ROUTE_CONFIG_KEY = 'jsonBodyLimits';

/**
 * A route whose body is legitimately wider than the API's flat objects (a conversation of hundreds of messages
 * with tool calls and tool schemas) declares its own limits; the body parser reads them from the route's config.
 */
export const JsonBodyLimit = (limits: JsonBodyLimits): MethodDecorator & ClassDecorator =>
  RouteConfig({ [ROUTE_CONFIG_KEY]: limits });

/** The limits a route declared with `@JsonBodyLimit`, else the default. */
export function routeJsonBodyLimits(routeConfig: unknown): JsonBodyLimits {
  const declared = (routeConfig as Record<string, unknown> | undefined)?.[ROUTE_CONFIG_KEY];
  return (declared as JsonBodyLimits | undefined) ?? DEFAULT_JSON_BODY_LIMITS;
}

/** What a body parser sees of the request. */
export interface BodyRequestLike {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Parses a JSON request body, or says precisely what is wrong with it as a problem the global filter renders:
 * 415 for a compressed body (nothing here inflates it); 400 `MALFORMED_REQUEST` for an empty body, for bytes
 * that are not UTF-8, for invalid JSON (what was expected and where, never an excerpt of the body: it may hold a
 * secret), for nesting deeper than JSON_MAX_DEPTH or more than JSON_MAX_KEYS keys or JSON_MAX_ARRAY_ITEMS array
 * items (counted on the text before it is parsed: refusing 1 MB takes about a millisecond), for a string or key
 * with a lone UTF-16 surrogate (`"\ud800"`) and for a `__proto__` or `constructor.prototype` key (prototype
 * poisoning).
 */
export function parseJsonBody(
  request: BodyRequestLike,
  body: string | Buffer,
  limits: JsonBodyLimits = DEFAULT_JSON_BODY_LIMITS,
): unknown {
  const encoding = headerValue(request.headers['content-encoding']);
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new DomainError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Encoding '${printable(encoding)}' is not supported: send the JSON body uncompressed.`,
      { errors: [{ field: 'content-encoding', reason: 'only an uncompressed (identity) body is accepted' }] },
    );
  }
  if (typeof body !== 'string' && !isUtf8(body)) {
    throw malformed('The body is not UTF-8 text: send JSON as UTF-8.', 'is not valid UTF-8');
  }
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const shape = shapeProblem(text, limits);
  if (shape !== undefined) throw malformed(`The body is refused: ${shape}.`, shape);
  let value: unknown;
  try {
    value = secureJson.parse(text, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    // An empty body is told apart only once parsing failed: a valid body is not trimmed for it.
    if (text.trim().length === 0) throw malformed('The body is empty: send a JSON object.', 'is empty');
    const reason = invalidJsonReason(error, text.length);
    throw malformed(`The body is not valid JSON: ${reason}.`, reason);
  }
  // UTF-8 cannot encode a lone surrogate: only a `\uD800`-`\uDFFF` escape without its pair makes one, so a body
  // with no `\u` escape at all (nearly every body) is not walked.
  if (text.includes('\\u') && !wellFormed(value)) {
    const reason = 'a string holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair)';
    throw malformed(`The body is refused: ${reason}.`, reason);
  }
  return value;
}

function malformed(detail: string, reason: string): DomainError {
  return new DomainError('MALFORMED_REQUEST', detail, { errors: [{ field: 'body', reason }] });
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const SPACE = 0x20;
/** Per nesting level, whether it is an array; reused (the scan is synchronous). */
const levelIsArray = new Uint8Array(JSON_MAX_DEPTH + 1);

/**
 * One pass over the text, before it is parsed, without recursion or allocation, that refuses a body nested
 * deeper than JSON_MAX_DEPTH or with more than JSON_MAX_KEYS keys or JSON_MAX_ARRAY_ITEMS array items. Strings
 * are skipped with `indexOf`, so a long string costs next to nothing; a hostile body is refused as soon as it
 * crosses a limit. Invalid JSON is left to the parser (the counts may then be off; the body is refused anyway).
 * (Scanning the bytes before decoding would refuse a 1 MB body in 0.03 ms instead of 0.6 ms, but
 * `Buffer#indexOf` is slower than the string's between close quotes: every accepted body would pay for it.)
 */
function shapeProblem(text: string, { maxKeys, maxArrayItems }: JsonBodyLimits): string | undefined {
  let depth = 0;
  let keys = 0;
  let items = 0;
  let previous = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= SPACE) continue;
    switch (c) {
      case QUOTE:
        i = endOfString(text, i);
        if (i < 0) return undefined;
        break;
      case OPEN_BRACKET:
      case OPEN_BRACE:
        if (++depth > JSON_MAX_DEPTH) return `nesting deeper than ${JSON_MAX_DEPTH} levels`;
        levelIsArray[depth] = c === OPEN_BRACKET ? 1 : 0;
        break;
      case CLOSE_BRACKET:
      case CLOSE_BRACE:
        if (c === CLOSE_BRACKET && previous !== OPEN_BRACKET && ++items > maxArrayItems) {
          return `more than ${maxArrayItems} array items`;
        }
        if (depth > 0) depth--;
        break;
      case COLON:
        if (++keys > maxKeys) return `more than ${maxKeys} object keys`;
        break;
      case COMMA:
        if (depth > 0 && levelIsArray[depth] === 1 && ++items > maxArrayItems) {
          return `more than ${maxArrayItems} array items`;
        }
        break;
    }
    previous = c;
  }
  return undefined;
}

/** The index of the quote that closes the string opened at `open`, or -1 if it is never closed. */
function endOfString(text: string, open: number): number {
  let quote = open;
  for (;;) {
    quote = text.indexOf('"', quote + 1);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
}

/** Whether every string and key in a parsed body is well-formed UTF-16 (iterative; the shape is bounded). */
function wellFormed(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (!next.isWellFormed()) return false;
    } else if (Array.isArray(next)) {
      pending.push(...(next as unknown[]));
    } else if (typeof next === 'object' && next !== null) {
      for (const [key, item] of Object.entries(next)) {
        if (!key.isWellFormed()) return false;
        pending.push(item);
      }
    }
  }
  return true;
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
