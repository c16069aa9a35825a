import { defineErrorCodes } from '@app/common';

/** The incident routes' error codes (docs/incidents.md, docs/errors.md). */
export const INCIDENTS_ERRORS = defineErrorCodes({
  /** `POST /incidents/webhook` without the `X-Webhook-Secret` header, or with another value than the configured one. */
  WEBHOOK_UNAUTHORIZED: { status: 401, title: 'Webhook secret missing or wrong' },
  /** `POST /incidents/webhook` while INCIDENTS_WEBHOOK_SECRET is not set: no webhook is accepted. */
  WEBHOOK_NOT_CONFIGURED: { status: 503, title: 'Incident webhook not configured' },
});
