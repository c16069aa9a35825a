/** The page's calls to the control plane's JSON endpoints, same origin, with the signed-in API key. */

/** The request header the API reads a key from (docs/security.md; `Authorization: Bearer` works too). */
export const API_KEY_HEADER = 'x-api-key';
const STORAGE_KEY = 'lrcp.control-room.api-key';

/** A refused or failed call: its status and the problem's `detail` (RFC 9457) when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * How long the page waits for an answer before it gives the call up as failed: a call that never answers (a stalled
 * proxy, a wedged replica) would otherwise hold its panel, and every refresh after it, on old numbers with no word.
 */
export const CALL_TIMEOUT_MS = 15_000;

/** The result of a call the page may find missing (the router endpoint answers 404 until it exists). */
export type Optional<T> = { found: true; body: T } | { found: false };

export class Api {
  constructor(
    private key: string | null = readStoredKey(),
    private readonly timeoutMs = CALL_TIMEOUT_MS,
  ) {}

  get signedIn(): boolean {
    return this.key !== null;
  }

  signIn(key: string): void {
    this.key = key;
    try {
      sessionStorage.setItem(STORAGE_KEY, key);
    } catch {
      // Storage refused (private mode): the key lives for this page only.
    }
  }

  signOut(): void {
    this.key = null;
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored.
    }
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /** A POST; `timeoutMs` for a call that may rightly take longer than a read (a model call of the drill). */
  post<T>(path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    return this.call<T>('POST', path, body, timeoutMs);
  }

  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  /** A GET whose 404 means "not there (yet)" rather than an error. */
  async optional<T>(path: string): Promise<Optional<T>> {
    try {
      return { found: true, body: await this.get<T>(path) };
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return { found: false };
      throw error;
    }
  }

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.key) headers[API_KEY_HEADER] = this.key;
    if (body !== undefined) headers['content-type'] = 'application/json';
    // One signal for the answer's headers and its body: a body that stalls halfway is given up too.
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        signal,
      });
      text = await response.text();
    } catch (error) {
      throw new ApiError(
        0,
        signal.aborted
          ? `The control plane did not answer within ${timeoutMs / 1000} s.`
          : `The control plane did not answer (${error instanceof Error ? error.message : 'network error'}).`,
      );
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const problem = (parsed ?? {}) as { detail?: unknown; code?: unknown };
      throw new ApiError(
        response.status,
        typeof problem.detail === 'string' ? problem.detail : `${method} ${path}: HTTP ${response.status}`,
        typeof problem.code === 'string' ? problem.code : undefined,
      );
    }
    return parsed as T;
  }
}

function readStoredKey(): string | null {
  try {
    const key = sessionStorage.getItem(STORAGE_KEY);
    return key && key.trim() !== '' ? key : null;
  } catch {
    return null;
  }
}

/**
 * Why a typed or pasted key cannot be a key, or null: a key is printable ASCII (a header value the browser can send).
 * A paste often brings an invisible character along (a zero-width space, a byte-order mark, a non-breaking space),
 * which the browser refuses to send: said as such, not as a server that did not answer.
 */
export function keyProblem(key: string): string | null {
  const at = [...key].findIndex((c) => c < ' ' || c > '~');
  if (at < 0) return null;
  const code = [...key][at]!.codePointAt(0)!;
  const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return (
    `That API key holds a character no key has (${name}, at character ${at + 1}; often an invisible one that ` +
    'came with a paste): type or paste the key again.'
  );
}

/** What a refusal means for a person at the page. */
export function explainRefusal(error: unknown, what: string): string {
  if (!(error instanceof ApiError)) return `${what}: ${error instanceof Error ? error.message : String(error)}`;
  if (error.status === 401) return `${what}: the API key was refused (${error.message})`;
  if (error.status === 403) return `${what}: ${error.message}`;
  if (error.status === 429) return `${what}: rate limited, retrying at the next refresh.`;
  return `${what}: ${error.message}`;
}
