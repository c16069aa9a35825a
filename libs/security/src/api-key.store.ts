import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { API_SCOPES, type ApiScope, AppConfig } from '@app/config';

/** Who is calling, as far as the API key says. */
export type Caller =
  | { readonly kind: 'key'; readonly name: string; readonly scopes: readonly ApiScope[] }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly why: string };

/** How the service authenticates: configured keys, the generated development key, or not at all (AUTH_DISABLED). */
export type AuthMode = 'keys' | 'development' | 'disabled';

/** The name of the generated development key (its rate-limit bucket, its log field). */
export const DEVELOPMENT_KEY_NAME = 'development';
/** Generated development keys start with this, so that secret scanners and people recognise them. */
export const DEVELOPMENT_KEY_PREFIX = 'lrcp_dev_';
/** Longer than any key anyone would configure: refused without hashing. */
const MAX_KEY_CHARS = 512;

type HeaderValue = string | string[] | undefined;

interface StoredKey {
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  readonly hash: Buffer;
}

/**
 * Whether a request sent `Authorization` or `x-api-key` on more than one header line, read from its raw header
 * lines (name, value, name, value...). Node keeps only the first `Authorization` in `request.headers` and joins
 * `x-api-key` lines with ", ", so a second credential is seen only here. Runs on every request: names are
 * compared by length before they are lower-cased, and nothing is allocated for the others.
 */
export function keyHeaderGivenTwice(rawHeaders: readonly string[] | undefined): boolean {
  if (rawHeaders === undefined) return false;
  let authorization = 0;
  let apiKey = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') authorization++;
    else if (name.length === 9 && name.toLowerCase() === 'x-api-key') apiKey++;
  }
  return authorization > 1 || apiKey > 1;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The configured API keys (API_KEYS, API_KEYS_FILE), held as sha256 hashes, or, with none configured and auth
 * not disabled, one development key with every scope generated for this process (`developmentKey`, printed once
 * by the module; never logged). A presented key is hashed and compared with every stored hash in constant time.
 */
@Injectable()
export class ApiKeyStore {
  readonly mode: AuthMode;
  private readonly keys: readonly StoredKey[];
  #developmentKey: string | undefined;

  constructor(config: AppConfig) {
    if (config.security.authDisabled) {
      this.mode = 'disabled';
      this.keys = [];
    } else if (config.security.apiKeys.length > 0) {
      this.mode = 'keys';
      this.keys = config.security.apiKeys.map((entry) => ({
        name: entry.name,
        scopes: entry.scopes,
        hash: Buffer.from(entry.sha256.reveal(), 'hex'),
      }));
    } else {
      this.mode = 'development';
      this.#developmentKey = `${DEVELOPMENT_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      this.keys = [{ name: DEVELOPMENT_KEY_NAME, scopes: [...API_SCOPES], hash: sha256(this.#developmentKey) }];
    }
  }

  /** How many keys are configured (the development key counts as one). */
  get count(): number {
    return this.keys.length;
  }

  /** The generated development key, handed out once (for the boot notice); undefined afterwards or with keys. */
  takeDevelopmentKey(): string | undefined {
    const key = this.#developmentKey;
    this.#developmentKey = undefined;
    return key;
  }

  /**
   * The caller of a request from its headers: `Authorization: Bearer <key>` or `x-api-key: <key>` (Authorization
   * first). Anything else in Authorization, or a header given twice, is an invalid key. `rawHeaders`: the request's
   * raw header lines (`IncomingMessage.rawHeaders`), where a second `Authorization` line still shows.
   */
  identify(headers: Record<string, HeaderValue>, rawHeaders?: readonly string[]): Caller {
    const authorization = headers.authorization;
    const apiKey = headers['x-api-key'];
    if (Array.isArray(authorization) || Array.isArray(apiKey) || keyHeaderGivenTwice(rawHeaders))
      return { kind: 'invalid', why: 'a key header is given twice' };
    let presented: string | undefined;
    if (authorization !== undefined && authorization.trim() !== '') {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
      if (!match) return { kind: 'invalid', why: 'Authorization must be `Bearer <key>`' };
      presented = match[1];
    } else if (apiKey !== undefined && apiKey.trim() !== '') {
      presented = apiKey.trim();
    }
    if (presented === undefined) return { kind: 'missing' };
    if (presented.length > MAX_KEY_CHARS)
      return { kind: 'invalid', why: `it is longer than ${MAX_KEY_CHARS} characters` };
    const hash = sha256(presented);
    let found: StoredKey | undefined;
    // Every stored hash is compared, so the time taken does not say which one (or whether one) matched.
    for (const key of this.keys) {
      if (timingSafeEqual(hash, key.hash) && found === undefined) found = key;
    }
    if (!found) return { kind: 'invalid', why: 'it matches no configured key' };
    return { kind: 'key', name: found.name, scopes: found.scopes };
  }
}
