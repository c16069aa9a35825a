import { type MetricDefinition, TAG } from '@app/telemetry';

/** Tag keys of the ledger's own metrics. */
export const LEDGER_TAG = { reason: 'reason' } as const;

/** Metrics of the usage ledger and budgets (docs/telemetry.md, "Ledger and budgets"). */
export const LEDGER_METRICS = {
  recordsWritten: {
    name: 'ledger.records.written',
    type: 'count',
    unit: 'record',
    tags: [TAG.store],
    description: 'Usage records written to the ledger store (per flush).',
  },
  recordsDropped: {
    name: 'ledger.records.dropped',
    type: 'count',
    unit: 'record',
    tags: [TAG.store, LEDGER_TAG.reason],
    description:
      'Usage records dropped, by reason: buffer_full (the buffer was full while the store kept failing), invalid_value or constraint (the store refused the record for good: a value it cannot hold, a constraint; the records around it are written), stopped (the process stopped while its store could not be used: the records still buffered are lost).',
  },
  flushErrors: {
    name: 'ledger.flush.errors',
    type: 'count',
    unit: 'error',
    tags: [TAG.store],
    description: 'Failed ledger flushes (the batch stays buffered and is retried).',
  },
  flushDuration: {
    name: 'ledger.flush.duration_ms',
    type: 'distribution',
    unit: 'millisecond',
    tags: [TAG.store],
    description:
      'Time to write one flush of usage records and their rollups: transactions of at most 100 records, with the event loop served between them.',
  },
  bufferSize: {
    name: 'ledger.buffer.size',
    type: 'gauge',
    unit: 'record',
    tags: [TAG.store],
    description: 'Usage records accepted but not yet written, after each flush.',
  },
  budgetUtilization: {
    name: 'llm.budget.utilization',
    type: 'gauge',
    unit: 'percent',
    tags: [TAG.state],
    description: "Today's LLM spend (UTC day) as a percentage of DAILY_BUDGET_USD; state is ok, warning or exceeded.",
  },
  budgetSpendToday: {
    name: 'llm.budget.spend_today_usd',
    type: 'gauge',
    unit: 'dollar',
    tags: [],
    description: "Today's LLM spend in USD (UTC day), from the ledger.",
  },
  budgetRejected: {
    name: 'llm.budget.rejected',
    type: 'count',
    unit: 'request',
    tags: [],
    description: 'LLM requests refused with 429 BUDGET_EXCEEDED (BUDGET_POLICY=enforce).',
  },
} as const satisfies Record<string, MetricDefinition>;
