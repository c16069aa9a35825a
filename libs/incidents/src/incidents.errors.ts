import { defineErrorCodes } from '@app/common';

/** The incident routes' error codes (docs/incidents.md, docs/errors.md). */
export const INCIDENTS_ERRORS = defineErrorCodes({
  /** `POST /incidents/webhook` without the `X-Webhook-Secret` header, or with another value than the configured one. */
  WEBHOOK_UNAUTHORIZED: { status: 401, title: 'Webhook secret missing or wrong' },
  /**
   * `POST /incidents/create` or `/create-from-insight` with an `Idempotency-Key` an earlier request of the same API
   * key used with another body: nothing is recorded.
   */
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused with another request' },
  /**
   * An alert while the outbox holds INCIDENTS_BACKLOG_MAX rows not delivered yet (Datadog down or unconfigured for
   * long, an alert storm): refused with `Retry-After`, nothing recorded; Datadog retries a webhook answered 5xx.
   */
  INCIDENTS_BACKLOG_FULL: { status: 503, title: 'Incident outbox backlog full' },
  /** `POST /incidents/webhook` while INCIDENTS_WEBHOOK_SECRET is not set: no webhook is accepted. */
  WEBHOOK_NOT_CONFIGURED: { status: 503, title: 'Incident webhook not configured' },
});
