import { defineErrorCodes } from '@app/common';

/** The ledger's error codes (see docs/errors.md). */
export const LEDGER_ERRORS = defineErrorCodes({
  /** BUDGET_POLICY=enforce and today's spend reached DAILY_BUDGET_USD; Retry-After says when the day resets. */
  BUDGET_EXCEEDED: { status: 429, title: 'Daily budget exceeded' },
});
