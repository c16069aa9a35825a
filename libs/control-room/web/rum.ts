/**
 * Datadog Real User Monitoring, loaded only when the server configured it (DD_RUM_APPLICATION_ID and
 * DD_RUM_CLIENT_TOKEN): main.ts imports this module dynamically, so the SDK is a separate chunk that a page without
 * RUM never fetches. Same service, env and version as the backend; the page's own API calls carry trace headers
 * (allowedTracingUrls: this origin), so each RUM resource links to its backend trace.
 */
import { datadogRum } from '@datadog/browser-rum';
import type { PageConfig } from './types';

export function startRum(config: PageConfig, origin: string): boolean {
  if (!config.rum) return false;
  datadogRum.init({
    applicationId: config.rum.applicationId,
    clientToken: config.rum.clientToken,
    site: config.rum.site,
    service: config.service,
    env: config.env,
    version: config.version,
    sessionSampleRate: 100,
    // No session replay: no recorder chunk, no worker, and the API key field is never recorded.
    sessionReplaySampleRate: 0,
    trackUserInteractions: true,
    trackResources: true,
    trackLongTasks: true,
    defaultPrivacyLevel: 'mask',
    traceSampleRate: 100,
    allowedTracingUrls: [
      { match: (url: string) => url.startsWith(`${origin}/`), propagatorTypes: ['datadog', 'tracecontext'] },
    ],
  });
  return true;
}
