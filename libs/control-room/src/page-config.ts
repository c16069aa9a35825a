import type { AppConfig } from '@app/config';

/** What the page learns from the server (in a `<meta>` of its HTML): who it is, and RUM when configured. */
export interface ControlRoomPageConfig {
  readonly service: string;
  readonly env: string;
  readonly version: string;
  /** Datadog RUM (DD_RUM_APPLICATION_ID, DD_RUM_CLIENT_TOKEN); null: RUM off, its code never fetched. */
  readonly rum: { readonly applicationId: string; readonly clientToken: string; readonly site: string } | null;
}

export function pageConfigOf(config: AppConfig): ControlRoomPageConfig {
  const rum = config.datadog.rum;
  return {
    service: config.service.name,
    env: config.service.env,
    version: config.service.version,
    rum: rum
      ? { applicationId: rum.applicationId, clientToken: rum.clientToken.reveal(), site: config.datadog.site }
      : null,
  };
}

/**
 * The origin the RUM SDK sends its events to for a Datadog site: `browser-intake-` and the site's labels but the
 * last joined with `-` (datadoghq.com, us3.datadoghq.com → browser-intake-us3-datadoghq.com, datadoghq.eu).
 */
export function rumIntakeOrigin(site: string): string {
  const labels = site.toLowerCase().split('.');
  const top = labels.pop() ?? '';
  return `https://browser-intake-${labels.join('-')}.${top}`;
}

/**
 * The page's Content-Security-Policy: the app's (libs/security/src/http-security.ts) with styles from files only.
 * The app's policy allows inline styles for Swagger UI at /docs; this page has none (its styles are
 * /ui/assets/main.css, its colours set through the CSSOM), and it holds an API key in its session storage, so it
 * does not take them: an HTML injection could not restyle the sign-in form (a fake prompt, text hidden or overlaid).
 * With RUM on, the RUM intake is added to `connect-src`, the one thing RUM needs that the app's policy refuses (the
 * SDK is bundled and served from 'self'; session replay is off, so no worker).
 */
export function pageContentSecurityPolicy(page: ControlRoomPageConfig): string {
  return [
    "default-src 'self'",
    "base-uri 'self'",
    page.rum ? `connect-src 'self' ${rumIntakeOrigin(page.rum.site)}` : "connect-src 'self'",
    "font-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "img-src 'self' data:",
    "object-src 'none'",
    "script-src 'self'",
    "script-src-attr 'none'",
    "style-src 'self'",
  ].join(';');
}

/** The placeholder of index.html that the page's configuration replaces (the `content` of a `<meta>`). */
export const CONFIG_PLACEHOLDER = '__CONTROL_ROOM_CONFIG__';

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** The page's HTML with its configuration in the `<meta name="control-room-config">`, escaped for an attribute. */
export function renderPage(indexHtml: string, page: ControlRoomPageConfig): string {
  const json = JSON.stringify(page).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
  // A function, not a string: a `$&` or `$'` in the configuration (DD_SERVICE, DD_VERSION...) is text, not a pattern.
  return indexHtml.replace(CONFIG_PLACEHOLDER, () => json);
}
