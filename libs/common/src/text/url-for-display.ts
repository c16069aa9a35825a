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
