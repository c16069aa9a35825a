import { defineErrorCodes } from '@app/common';

/** The optimisation routes' error codes (docs/insights.md, "Optimisation and ROI"). */
export const OPTIMIZATION_ERRORS = defineErrorCodes({
  /** No recommendation has that id. */
  RECOMMENDATION_NOT_FOUND: { status: 404, title: 'Recommendation not found' },
  /** record-result on a recommendation not implemented yet: there is no baseline nor an after window. */
  RECOMMENDATION_NOT_IMPLEMENTED: { status: 409, title: 'Recommendation not implemented' },
  /** implement on a recommendation already implemented: its baseline is kept, not replaced. */
  RECOMMENDATION_ALREADY_IMPLEMENTED: { status: 409, title: 'Recommendation already implemented' },
  /** record-result when a window has no priced requests in the ledger: nothing to compare. */
  INSUFFICIENT_USAGE: { status: 409, title: 'Not enough usage in the ledger to measure' },
});
