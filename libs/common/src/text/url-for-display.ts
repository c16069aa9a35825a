/**
 * A configured URL as it may be shown (a readiness detail, an API answer, a log line): scheme, host, port and path,
 * never the user information, query or fragment, where a proxy's credentials or a token would sit
 * (`https://user:secret@proxy.example/api?token=x` → `https://proxy.example/api`). Not a URL: a fixed placeholder.
 */
export function urlForDisplay(url: string): string {
  try {
    const parsed = new URL(url);
    const path = parsed.pathname === '/' ? '' : parsed.pathname;
    return `${parsed.protocol}//${parsed.host}${path}`;
  } catch {
    return '(not a URL)';
  }
}

/**
 * `text` with the user information of every URL in it removed (`request to http://user:secret@proxy:8080/api failed`
 * → `request to http://proxy:8080/api failed`): an HTTP client's error quotes the URL it called, credentials and all.
 */
export function withoutUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1');
}
