import { defineErrorCodes } from '@app/common';

/** The anomaly attribution routes' error codes (docs/insights.md, "Anomaly attribution"). */
export const ATTRIBUTION_ERRORS = defineErrorCodes({
  /** source=datadog without DD_API_KEY and DD_APP_KEY: nothing was asked of Datadog. */
  ATTRIBUTION_SOURCE_UNCONFIGURED: { status: 503, title: 'Attribution source not configured' },
  /** source=datadog and the metrics query failed (refused, unreachable, or an error from Datadog). */
  ATTRIBUTION_SOURCE_FAILED: { status: 502, title: 'Attribution source failed' },
});
