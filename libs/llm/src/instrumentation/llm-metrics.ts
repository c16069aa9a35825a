import { type MetricDefinition, TAG } from '@app/telemetry';

const CALL_TAGS = [TAG.endpoint, TAG.provider, TAG.model, TAG.status] as const;
const ERROR_TAGS = [TAG.endpoint, TAG.provider, TAG.model, TAG.status, TAG.errorType] as const;

/**
 * The `latency_slo` tag of `llm.request.count`: `met` when the call ended within HEALTH_LATENCY_SLO_MS, else
 * `missed`; on every call that ended (ok, safety_block, error), never on an abandoned one. The latency SLO's
 * good/total counts (datadog/slos/llm-latency.json).
 */
export const LATENCY_SLO_TAG = 'latency_slo';
export type LatencySloOutcome = 'met' | 'missed';

/** The `resource` tag of `llm.shed.count`: event_loop, heap, concurrency or provider_rate_limit (SaturatedResource). */
export const RESOURCE_TAG = 'resource';

/** The `reason` tag of `llm.router.decision.count`: why the router chose the model (RouteReason, a bounded set). */
export const REASON_TAG = 'reason';

/**
 * Metrics of LLM calls: emitted once per call by LlmCallInstrumentation (the route metrics of the interceptor
 * are separate). `model` is the model that answered (or the last one tried), from config, never free text.
 */
export const LLM_METRICS = {
  routerDecisions: {
    name: 'llm.router.decision.count',
    type: 'count',
    unit: 'decision',
    tags: [TAG.endpoint, TAG.model, REASON_TAG],
    description:
      'Routing decisions (ROUTER_MODE rules or learned, with more than one candidate), by the model chosen and why: rules, cold_start, model_unavailable (no model, or it knows fewer than two of the admissible candidates), model_failure (the rules chose), cheapest_meeting_constraints, best_predicted, exploration (any admissible candidate, unknown to the model included), single_candidate (an open circuit left one), all_circuits_open. docs/router.md.',
  },
  llmobsOverBudget: {
    name: 'llm.llmobs.over_budget.count',
    type: 'count',
    unit: 'call',
    tags: [REASON_TAG],
    description:
      'Calls not kept in LLM Observability because LLMOBS_KEEP_MAX_PER_S was spent, by the reason they would have been kept for (slow or share); their APM spans and metrics are kept.',
  },
  latency: {
    name: 'llm.request.latency_ms',
    type: 'distribution',
    unit: 'millisecond',
    tags: CALL_TAGS,
    description: 'End-to-end latency of an LLM call, all attempts, retries and fallbacks included.',
  },
  ttft: {
    name: 'llm.time_to_first_token_ms',
    type: 'distribution',
    unit: 'millisecond',
    tags: CALL_TAGS,
    description: 'Time to the first streamed token (SSE calls only).',
  },
  requests: {
    name: 'llm.request.count',
    type: 'count',
    unit: 'request',
    tags: [...ERROR_TAGS, LATENCY_SLO_TAG],
    description:
      "LLM calls, by final status (ok, error, safety_block, aborted, rejected). A call its client abandoned is `status:aborted` with `error_type:client_abort`, one cut by the graceful stop of the server (SHUTDOWN_GRACE_MS ran out) `error_type:shutdown`; one whose request the provider refused as invalid (a prompt over the context window: the caller's 400 PROVIDER_REJECTED_REQUEST) `status:rejected` with `error_type:bad_request` (the only calls with an error_type here); none is an error. `latency_slo` is `met` or `missed` against HEALTH_LATENCY_SLO_MS on every call that ended (none on aborted or rejected ones): the latency SLO counts.",
  },
  errors: {
    name: 'llm.error.count',
    type: 'count',
    unit: 'error',
    tags: ERROR_TAGS,
    description:
      'Failed LLM calls, by error_type (rate_limit, timeout, server, connection, circuit_open, no_capacity, ...).',
  },
  tokensInput: {
    name: 'llm.tokens.input',
    type: 'count',
    unit: 'token',
    tags: CALL_TAGS,
    description: 'Input tokens (cached included).',
  },
  tokensOutput: {
    name: 'llm.tokens.output',
    type: 'count',
    unit: 'token',
    tags: CALL_TAGS,
    description: 'Output tokens (reasoning excluded).',
  },
  tokensTotal: {
    name: 'llm.tokens.total',
    type: 'count',
    unit: 'token',
    tags: CALL_TAGS,
    description: 'Total tokens as reported by the provider.',
  },
  tokensCached: {
    name: 'llm.tokens.cached',
    type: 'count',
    unit: 'token',
    tags: CALL_TAGS,
    description: 'Input tokens served from the context cache.',
  },
  tokensReasoning: {
    name: 'llm.tokens.reasoning',
    type: 'count',
    unit: 'token',
    tags: CALL_TAGS,
    description: 'Reasoning/thinking tokens (billed at the output rate).',
  },
  costSpend: {
    name: 'llm.cost.usd',
    type: 'count',
    unit: 'dollar',
    tags: CALL_TAGS,
    description: 'Spend in USD from the dated price table (sum it for totals); calls of unpriced models add nothing.',
  },
  costPerRequest: {
    name: 'llm.request.cost_usd',
    type: 'distribution',
    unit: 'dollar',
    tags: CALL_TAGS,
    description: 'Cost of each priced call, for percentiles.',
  },
  retries: {
    name: 'llm.retry.count',
    type: 'count',
    unit: 'retry',
    tags: CALL_TAGS,
    description: 'Retries made (not counting the first attempt of each model).',
  },
  fallbacks: {
    name: 'llm.fallback.count',
    type: 'count',
    unit: 'call',
    tags: CALL_TAGS,
    description: 'Calls answered (or failed) on a fallback model.',
  },
  rateLimits: {
    name: 'llm.rate_limit.count',
    type: 'count',
    unit: 'response',
    tags: CALL_TAGS,
    description:
      "Upstream 429 responses seen, per attempt, under the model that answered the 429 (not the fallback the call ended on); status is the call's.",
  },
  timeouts: {
    name: 'llm.timeout.count',
    type: 'count',
    unit: 'attempt',
    tags: CALL_TAGS,
    description:
      "Attempts that hit the per-attempt timeout, under the model the attempt went to (not the fallback the call ended on); status is the call's.",
  },
  safetyBlocks: {
    name: 'llm.safety_block.count',
    type: 'count',
    unit: 'call',
    tags: CALL_TAGS,
    description: 'Calls whose prompt or answer was blocked by the provider safety system.',
  },
  circuitState: {
    name: 'llm.circuit.state',
    type: 'gauge',
    unit: 'state',
    tags: [TAG.provider, TAG.model],
    description:
      'Circuit breaker state per provider+model: 0 closed, 1 half-open, 2 open (sent on change and every 10 s).',
  },
  rateLimitState: {
    name: 'llm.rate_limit.state',
    type: 'gauge',
    unit: 'state',
    tags: [TAG.provider, TAG.model],
    description:
      'Rate-limit gate per provider+model: 0 open, 1 probing (half-open after a hold), 2 held after a 429 (sent on a hold and every 10 s).',
  },
  rateLimitHolds: {
    name: 'llm.rate_limit.hold.count',
    type: 'count',
    unit: 'hold',
    tags: [TAG.provider, TAG.model],
    description:
      'Holds started by an upstream 429 (for its Retry-After, bounded by LLM_RATE_LIMIT_MAX_HOLD_MS); 429s of calls sent before a hold began start none.',
  },
  concurrencyLimit: {
    name: 'llm.concurrency.limit',
    type: 'gauge',
    unit: 'call',
    tags: [TAG.provider, TAG.model],
    description:
      'Adaptive limit of calls in flight per provider+model (AIMD: halved on a 429, +1 per success, at most LLM_MAX_CONCURRENCY; sent on a hold and every 10 s).',
  },
  concurrencyInFlight: {
    name: 'llm.concurrency.in_flight',
    type: 'gauge',
    unit: 'call',
    tags: [TAG.provider, TAG.model],
    description: 'Upstream calls in flight per provider+model (every 10 s).',
  },
  shed: {
    name: 'llm.shed.count',
    type: 'count',
    unit: 'call',
    tags: [TAG.endpoint, TAG.provider, RESOURCE_TAG],
    description:
      'Calls refused with 503 NO_CAPACITY, by the saturated resource: event_loop or heap (shed at admission, before any work), concurrency (LLM_MAX_CONCURRENCY full for LLM_QUEUE_TIMEOUT_MS), provider_rate_limit (every model held after a 429).',
  },
  cacheHits: {
    name: 'llm.cache.hit',
    type: 'count',
    unit: 'call',
    tags: [TAG.endpoint, TAG.model],
    description:
      'Calls answered from the response cache (CACHE_MODE=exact, docs/cache.md): no provider call, no tokens, no cost, no budget. `model` is the model that answered the cached call.',
  },
  cacheMisses: {
    name: 'llm.cache.miss',
    type: 'count',
    unit: 'call',
    tags: [TAG.endpoint, TAG.model],
    description:
      "Cacheable calls the response cache could not answer (no entry, expired, or the cache failed); they go to the provider. `model` is the first model of the call's chain.",
  },
  cacheSaved: {
    name: 'llm.cache.saved_cost_usd',
    type: 'count',
    unit: 'dollar',
    tags: [TAG.endpoint, TAG.model],
    description:
      "What the calls answered from the response cache would have cost: the cached call's cost, per hit (unpriced models add nothing).",
  },
  droppedToolCalls: {
    name: 'llm.tool_calls.dropped.count',
    type: 'count',
    unit: 'call',
    tags: [TAG.endpoint, TAG.provider, TAG.model, REASON_TAG],
    description:
      'Tool calls dropped from an answer because the request did not offer their function (a Gemini model may make one up), by why: not_offered (not among its tools), no_tools (it gave none), tool_choice_none, not_chosen (another than the one tool_choice named). docs/openai-compat.md.',
  },
  unpriced: {
    name: 'llm.cost.unpriced.count',
    type: 'count',
    unit: 'call',
    tags: CALL_TAGS,
    description: 'Calls of models missing from the price table (cost null).',
  },
} as const satisfies Record<string, MetricDefinition>;
