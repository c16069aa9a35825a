import type { MetricDefinition } from '@app/telemetry';

/** Tag keys of the incident metrics (bounded values: fixed lists in this lib). */
export const INCIDENT_TAG = {
  source: 'source',
  action: 'action',
  kind: 'kind',
  reason: 'reason',
  transition: 'transition',
} as const;

/** The incident manager's metrics (docs/incidents.md). */
export const INCIDENT_METRICS = {
  requests: {
    name: 'incidents.requests.count',
    type: 'count',
    unit: 'request',
    tags: [INCIDENT_TAG.source, INCIDENT_TAG.action],
    description:
      'Incident requests written to the outbox: source api, insight or webhook; action opened, updated (deduplicated), reopened (a flapping monitor), resolved or ignored.',
  },
  backlogRefused: {
    name: 'incidents.backlog.refused',
    type: 'count',
    unit: 'request',
    tags: [INCIDENT_TAG.source],
    description:
      'Alerts refused with 503 and Retry-After because the outbox held INCIDENTS_BACKLOG_MAX rows not delivered yet (source api, insight or webhook; Datadog retries a webhook answered 5xx). Nothing already taken is dropped.',
  },
  outboxPending: {
    name: 'incidents.outbox.pending',
    type: 'gauge',
    unit: 'row',
    tags: [],
    description:
      'Outbox rows not delivered yet (pending or being delivered), read from the shared store after each delivery poll.',
  },
  outboxFailed: {
    name: 'incidents.outbox.failed',
    type: 'gauge',
    unit: 'row',
    tags: [],
    description: 'Outbox rows Datadog refused for good (a 4xx the same request always gets); they need an operator.',
  },
  outboxOldestAge: {
    name: 'incidents.outbox.oldest_pending_age_ms',
    type: 'gauge',
    unit: 'millisecond',
    tags: [],
    description: 'Age of the oldest outbox row not delivered yet; 0 when there is none.',
  },
  open: {
    name: 'incidents.open',
    type: 'gauge',
    unit: 'incident',
    tags: [],
    description:
      'Incidents open now (an alert opened them; no recovery resolved them yet), read from the shared store after each delivery poll: the same on every replica.',
  },
  openOldestAge: {
    name: 'incidents.open.oldest_age_ms',
    type: 'gauge',
    unit: 'millisecond',
    tags: [],
    description:
      'How long ago the oldest open incident was opened; 0 when none is open. An incident whose monitor never recovers (or whose recovery notification was lost) keeps growing it.',
  },
  delivered: {
    name: 'incidents.delivered.count',
    type: 'count',
    unit: 'row',
    tags: [INCIDENT_TAG.kind],
    description: 'Outbox rows delivered to Datadog: kind create (an incident opened or found by its key) or update.',
  },
  deliveryErrors: {
    name: 'incidents.delivery.errors',
    type: 'count',
    unit: 'attempt',
    tags: [INCIDENT_TAG.reason],
    description:
      'Failed delivery attempts by reason: unconfigured (no API keys), unreachable (no answer, timeout), rate_limited (429), server (5xx), rejected (other 4xx), internal.',
  },
  webhook: {
    name: 'incidents.webhook.count',
    type: 'count',
    unit: 'request',
    tags: [INCIDENT_TAG.transition],
    description:
      'Authenticated Datadog monitor webhooks by transition: triggered, re_triggered, warn, re_warn, no_data, re_no_data, renotify, recovered, other.',
  },
} as const satisfies Record<string, MetricDefinition>;
