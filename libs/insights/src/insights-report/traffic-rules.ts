import type { RepeatedPrompt } from '@app/ledger';
import type { InsightRecommendationDto, InsightsWindowDto } from './insights-report.dto';
import { spanLabel } from './span-label';

/**
 * Calls of one model in a window, how many of them the circuit breakers refused (`circuit_open`), and how many were
 * refused for capacity (`no_capacity`: 503 NO_CAPACITY).
 */
export interface ModelRefusals {
  model: string;
  requests: number;
  /** Failed calls (any error type, the refusals included). */
  errors: number;
  refused: number;
  noCapacity: number;
  /**
   * Calls recorded under this model that reached it only after an earlier model of their chain failed or had its
   * circuit open (`fallback_used`), and their retries (mostly the earlier model's attempts).
   */
  fallbacks: number;
  fallbackRetries: number;
}

/** Calls per endpoint and model over the long window: the cache's denominator and the cheaper-model comparison. */
export interface EndpointModelCalls {
  endpoint: string;
  model: string;
  requests: number;
  answered: number;
  errors: number;
  costUsd: number;
  pricedRequests: number;
  /** Priced calls that failed and cost nothing: `pricedRequests − freeFailures` were answered or billed. */
  freeFailures: number;
  /** Calls that reached this model after an earlier model of their chain failed (`fallback_used`). */
  fallbacks: number;
  qualitySum: number;
  qualityCount: number;
}

/** What the traffic rules read, gathered by `InsightsReportService` (or built by hand in tests). */
export interface TrafficFacts {
  /** Per model over the short window. */
  refusals: ModelRefusals[];
  refusalsWindow: InsightsWindowDto;
  /** Prompts answered at least twice, per endpoint and model, over `repeatsWindow` (at most `repeatsLimit` rows). */
  repeats: RepeatedPrompt[];
  repeatsLimit: number;
  answered: EndpointModelCalls[];
  repeatsWindow: InsightsWindowDto;
  /** Per endpoint and model over the short window (`refusalsWindow`): what the cost-spike rule compares. */
  spendShort: EndpointModelCalls[];
  /** This service's response cache (CACHE_MODE, CACHE_SCOPE): what the caching rule advises depends on it. */
  cache: { mode: 'off' | 'exact'; scope: 'key' | 'shared' };
  /**
   * The configured chain, in order: LLM_MODEL, then LLM_FALLBACK_MODELS. A call falls back along it, so a fallback
   * recorded under one of its models came from a model before it (or from a routed call's first model).
   */
  chainModels: readonly string[];
  /**
   * ROUTER_CANDIDATES while the router is at work (else empty): a routed call starts on one of them, then follows the
   * rest of the chain.
   */
  routerCandidates: readonly string[];
}

/**
 * The models a call recorded under `model` as a fallback may have started on: those before it in the configured
 * chain, and, when it is in the chain, the router's other candidates (a routed call's chain is its candidate, then
 * the configured chain without it). Before 2026-12-08 every model of the chain and every candidate was listed, those
 * after it included: a chain gpt-4o-mini → gemini-2.5-flash → gemini-2.5-pro whose router sent the calls to
 * gemini-2.5-flash-lite, failing, read "fell back to gpt-4o-mini from another model of the chain (gemini-2.5-flash,
 * gemini-2.5-pro, gemini-2.5-flash-lite)", named no model, and the cheaper-model rule advised moving traffic to the
 * failing flash-lite (measured on a loopback upstream). A `/v1` call naming its own model may start on it too; the
 * ledger does not keep which.
 */
export function fallbackSources(
  facts: Pick<TrafficFacts, 'chainModels' | 'routerCandidates'>,
  model: string,
): string[] {
  const chain = [...new Set(facts.chainModels)];
  const at = chain.indexOf(model);
  if (at < 0) return [];
  return [...new Set([...chain.slice(0, at), ...facts.routerCandidates.filter((m) => m !== model)])];
}

/** Fewest calls a cache would have answered for the caching rule to speak, and the smallest share of the traffic. */
export const CACHE_MIN_AVOIDABLE = 5;
export const CACHE_MIN_SHARE = 0.05;
/** Refusals by open circuits are always worth a word; from this share of calls they are high priority. */
export const REFUSAL_HIGH_SHARE = 0.1;
/** Fewest fallbacks recorded under a model for the fallback rule to speak (as the other rules' fewest calls). */
export const FALLBACK_MIN_CALLS = 5;
/** Below this share of all calls, fallbacks are a low-priority item (the fallback chain is doing its job). */
export const FALLBACK_MEDIUM_SHARE = 0.01;
/** Fewest scored answers of each model on an endpoint for the cheaper-model comparison. */
export const CHEAPER_MIN_SCORED = 20;
/** The cheaper model's mean quality may be at most this much below the other's (quality scores are 0..1). */
export const CHEAPER_QUALITY_TOLERANCE = 0.03;
/** ... and its error rate at most this much above. */
export const CHEAPER_ERROR_TOLERANCE = 0.01;
/** From this share of the dearer model's calls being fallbacks the cheaper one may have started, no comparison. */
export const CHEAPER_MAX_FALLBACK_SHARE = 0.05;
/** The saving per call must be at least this share of the dearer model's cost per call. */
export const CHEAPER_MIN_SAVING = 0.2;

/** Volume at which confidence reaches half its effect factor (as in insights-rules.ts). */
const VOLUME_HALF = 30;

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.max(0, Math.min(1, x)) : 0);
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (rate: number): string => `${round(rate * 100, 1)}%`;
const confidenceOf = (n: number, effect: number): number =>
  round((n > 0 ? n / (n + VOLUME_HALF) : 0) * clamp01(effect));

/**
 * Calls refused because every model's circuit breaker was open. The ledger records such a call under the chain's
 * last model (the one whose breaker refused last), so the advice is about the chain, with that model named.
 */
export function circuitRecommendations(facts: TrafficFacts): InsightRecommendationDto[] {
  const w = facts.refusalsWindow;
  return facts.refusals
    .filter((m) => m.refused > 0 && m.requests > 0)
    .map((m) => {
      const share = m.refused / m.requests;
      return {
        title: `Circuit breakers open: ${m.refused} calls (${pct(share)}) refused with 503 in the last ${spanLabel(w.duration_ms)}, chain ending at ${m.model}`,
        category: 'reliability',
        priority: share >= REFUSAL_HIGH_SHARE ? 'high' : 'medium',
        confidence: confidenceOf(m.requests, share / REFUSAL_HIGH_SHARE),
        description:
          `Every model of the fallback chain had its circuit breaker open, so these calls were refused without ` +
          `reaching a provider (CIRCUIT_OPEN, with Retry-After). Check the providers' status (llm.circuit.state by ` +
          `model, llm.error.count by error_type), add a fallback model on another provider (LLM_FALLBACK_MODELS), ` +
          `or tune LLM_BREAKER_* if the breakers open on brief blips.`,
        evidence: {
          summary:
            `${m.refused} of ${m.requests} calls recorded under ${m.model} failed with error type circuit_open in ` +
            `the ${spanLabel(w.duration_ms)} window ${w.from} – ${w.to}.`,
          window: w,
          baseline_window: null,
          requests: m.requests,
          figures: { refused_calls: m.refused, refused_rate: round(share, 4) },
        },
        expected_impact: `A healthy fallback would have answered up to ${m.refused} more calls per ${spanLabel(w.duration_ms)}.`,
        model: m.model,
        endpoint: null,
      } satisfies InsightRecommendationDto;
    });
}

/**
 * Calls refused with 503 NO_CAPACITY: none reached a model. One recommendation for the service (the saturated
 * resource is the process's or the provider's quota, not one model's), naming the models whose calls were refused.
 * The ledger does not keep the resource, so the advice names each one and where to read which it was.
 */
export function capacityRecommendations(facts: TrafficFacts): InsightRecommendationDto[] {
  const w = facts.refusalsWindow;
  const refusedBy = facts.refusals.filter((m) => m.noCapacity > 0);
  const refused = refusedBy.reduce((sum, m) => sum + m.noCapacity, 0);
  const requests = facts.refusals.reduce((sum, m) => sum + m.requests, 0);
  if (refused === 0 || requests === 0) return [];
  const share = refused / requests;
  const models = refusedBy
    .sort((a, b) => b.noCapacity - a.noCapacity || a.model.localeCompare(b.model))
    .map((m) => `${m.model} (${m.noCapacity})`)
    .join(', ');
  const span = spanLabel(w.duration_ms);
  return [
    {
      title: `No capacity: ${refused} calls (${pct(share)}) refused with 503 NO_CAPACITY in the last ${span}`,
      category: 'reliability',
      priority: share >= REFUSAL_HIGH_SHARE ? 'high' : 'medium',
      confidence: confidenceOf(requests, share / REFUSAL_HIGH_SHARE),
      description:
        `These calls were refused before reaching a model (503 NO_CAPACITY, with Retry-After); they are not the ` +
        `provider's errors. llm.shed.count by resource (and each 503's detail) says what ran out: ` +
        `provider_rate_limit, every model held after the provider's 429s: ask the provider for more quota or add a ` +
        `fallback model on another quota (LLM_FALLBACK_MODELS); concurrency, LLM_MAX_CONCURRENCY calls in flight ` +
        `for LLM_QUEUE_TIMEOUT_MS: raise the cap if the heap has room; event_loop or heap, the process saturated: ` +
        `add replicas or CPU, or raise the heap (docs/operations.md, "What a 503 says").`,
      evidence: {
        summary:
          `${refused} of ${requests} calls failed with error type no_capacity in the ${span} window ` +
          `${w.from} – ${w.to}, recorded under ${models}.`,
        window: w,
        baseline_window: null,
        requests,
        figures: { refused_calls: refused, refused_rate: round(share, 4) },
      },
      expected_impact: `Up to ${refused} more calls per ${span} answered once the saturated resource has room.`,
      model: refusedBy.length === 1 ? refusedBy[0]!.model : null,
      endpoint: null,
    } satisfies InsightRecommendationDto,
  ];
}

/**
 * Calls that fell back: their first model failed after its retries (or its circuit breaker was open) and the next
 * model of the chain took them. The ledger records such a call, and its retries, under the model that answered, so the
 * failing model's trouble shows nowhere else: before, a model failing 90 % of its attempts read as healthy (88.92),
 * its healthy fallback was told "retries per call ... its attempts are failing, check the provider's status for it",
 * and the failing model was recommended as the cheaper one to move traffic to. The model that failed is named when
 * the chain leaves one model that can precede it (`fallbackSources`; `model`, so the cheaper-model rule leaves it
 * out); else those models are listed.
 */
export function fallbackRecommendations(facts: TrafficFacts): InsightRecommendationDto[] {
  const w = facts.refusalsWindow;
  const span = spanLabel(w.duration_ms);
  const total = facts.refusals.reduce((sum, m) => sum + m.requests, 0);
  if (total === 0) return [];
  return facts.refusals
    .filter((m) => m.fallbacks >= FALLBACK_MIN_CALLS && m.requests > 0)
    .sort((a, b) => b.fallbacks - a.fallbacks || a.model.localeCompare(b.model))
    .map((m) => {
      const sources = fallbackSources(facts, m.model);
      const source = sources.length === 1 ? sources[0]! : null;
      const from =
        source ?? (sources.length > 0 ? `another model of the chain (${sources.join(', ')})` : 'an earlier model');
      const rate = m.fallbacks / total;
      return {
        title:
          source !== null
            ? `Model ${source}: ${m.fallbacks} calls (${pct(rate)}) fell back to ${m.model} in the last ${span}`
            : `Fallbacks: ${m.fallbacks} calls (${pct(rate)}) fell back to ${m.model} from ${from} in the last ${span}`,
        category: 'reliability',
        priority: rate >= REFUSAL_HIGH_SHARE ? 'high' : rate >= FALLBACK_MEDIUM_SHARE ? 'medium' : 'low',
        confidence: confidenceOf(total, rate / REFUSAL_HIGH_SHARE),
        description:
          `These calls' first model (${from}) failed after its retries, or had its circuit breaker open, and ` +
          `${m.model}, next in the chain, took them: ` +
          // The whole chain failing records its calls as fallbacks under its last model, failed: before 2026-12-08
          // every model answering 500 read "the callers got answers" here.
          (m.errors > 0
            ? `the callers got answers unless ${m.model} failed too: ${m.errors} of the ${m.requests} calls ` +
              `recorded under it failed (see its error rate). `
            : `the callers got answers, after the failed attempts' latency. `) +
          `The ledger records such a call, and its retries, under the model that answered, so the first model's ` +
          `failures are not in its own error rate. Check that model's provider (llm.error.count and ` +
          `llm.circuit.state by model, llm.fallback.count)` +
          // A model failing too is no place to send the traffic.
          (m.errors > 0
            ? `, and ${m.model}'s: with both failing, add a fallback model on another provider (LLM_FALLBACK_MODELS).`
            : `, and send its traffic to ${m.model} until it recovers.`),
        evidence: {
          summary:
            `${m.fallbacks} of ${m.requests} calls recorded under ${m.model} reached it after ${from} failed ` +
            `(fallback_used), with ${m.fallbackRetries} retries before, in the ${span} window ${w.from} – ${w.to}; ` +
            `${pct(rate)} of all ${total} calls.`,
          window: w,
          baseline_window: null,
          requests: total,
          figures: {
            fallback_calls: m.fallbacks,
            fallback_rate: round(rate, 4),
            fallback_retries: m.fallbackRetries,
            calls_of_fallback_model: m.requests,
          },
        },
        expected_impact:
          `A healthy ${source ?? 'first model'} would answer these ${m.fallbacks} calls per ${span} itself, without ` +
          `the failed attempts' latency.`,
        model: source,
        endpoint: null,
      } satisfies InsightRecommendationDto;
    });
}

/** What to do about repeats, given this service's own response cache (docs/cache.md). */
function cacheAdvice(cache: TrafficFacts['cache']): string {
  if (cache.mode === 'off') {
    return (
      `This service's response cache (CACHE_MODE=exact, docs/cache.md) would answer the repeats at no cost; keep ` +
      `its lifetime (CACHE_TTL_S) short where answers must reflect fresh data.` +
      (cache.scope === 'key'
        ? ` It keeps each API key's answers to that key (CACHE_SCOPE=key), so repeats by different keys would still ` +
          `be paid: the saving below is an upper bound.`
        : '')
    );
  }
  // Hits are not counted as repeats: these went to the model although the cache is on.
  return (
    `The response cache is on, yet these repeats reached the model: streamed calls and drills bypass it, entries ` +
    `expire after CACHE_TTL_S, ` +
    (cache.scope === 'key'
      ? `and each API key has its own entries (CACHE_SCOPE=key), so the same prompt from another key is a miss. ` +
        `Where every key belongs to one tenant, CACHE_SCOPE=shared would answer those too.`
      : `and the oldest entries are evicted beyond CACHE_MAX_ENTRIES.`)
  );
}

/**
 * Response-cache candidates: exact prompts (same hash: the whole text sent, document included) answered more than
 * once by one model on one endpoint. A cache would have answered every repeat after the first; the saving is their
 * cost and the latency is theirs too. Only where repeats are a real share of that endpoint's answered calls.
 */
export function cachingRecommendations(facts: TrafficFacts): InsightRecommendationDto[] {
  const w = facts.repeatsWindow;
  const truncated = facts.repeats.length >= facts.repeatsLimit;
  const groups = new Map<string, { endpoint: string; model: string; prompts: RepeatedPrompt[] }>();
  for (const r of facts.repeats) {
    const key = `${r.endpoint}\u0000${r.model}`;
    const group = groups.get(key) ?? { endpoint: r.endpoint, model: r.model, prompts: [] };
    group.prompts.push(r);
    groups.set(key, group);
  }
  const answered = new Map(facts.answered.map((a) => [`${a.endpoint}\u0000${a.model}`, a.answered]));
  const out: InsightRecommendationDto[] = [];
  for (const [key, g] of groups) {
    const total = answered.get(key) ?? 0;
    const repeatedCalls = g.prompts.reduce((n, p) => n + p.calls, 0);
    const avoidable = repeatedCalls - g.prompts.length;
    if (total <= 0 || avoidable < CACHE_MIN_AVOIDABLE) continue;
    const share = Math.min(1, avoidable / total);
    if (share < CACHE_MIN_SHARE) continue;
    // Each repeat costs about its prompt's mean cost; the first call of each prompt is still paid.
    const savedUsd = g.prompts.reduce((sum, p) => sum + (p.costUsd * (p.calls - 1)) / p.calls, 0);
    const savedMs = g.prompts.reduce((sum, p) => sum + (p.latencyMsSum * (p.calls - 1)) / p.calls, 0);
    const top = [...g.prompts].sort((a, b) => b.calls - a.calls)[0]!;
    const atLeast = truncated ? 'at least ' : '';
    out.push({
      title: `Endpoint ${g.endpoint} on ${g.model}: ${atLeast}${avoidable} answers (${pct(share)}) repeated an earlier identical prompt in the last ${spanLabel(w.duration_ms)}`,
      category: 'cost',
      priority: share >= 0.3 ? 'high' : share >= 0.15 ? 'medium' : 'low',
      confidence: confidenceOf(total, share / 0.3),
      description: `The same prompt (byte for byte, document included) was answered several times. ${cacheAdvice(facts.cache)}`,
      evidence: {
        summary:
          `${g.prompts.length} distinct prompts were asked ${repeatedCalls} times (${atLeast}${avoidable} repeats) ` +
          `out of ${total} answered calls of ${g.model} on ${g.endpoint} in the ${spanLabel(w.duration_ms)} window ${w.from} – ` +
          `${w.to}; the most repeated (hash ${top.promptHash.slice(0, 8)}…) ${top.calls} times.`,
        window: w,
        baseline_window: null,
        requests: total,
        figures: {
          repeated_prompts: g.prompts.length,
          repeat_calls: avoidable,
          answered_calls: total,
          repeat_share: round(share, 4),
          cost_of_repeats_usd: round(savedUsd, 6),
          latency_of_repeats_ms: Math.round(savedMs),
          most_repeated_calls: top.calls,
        },
      },
      expected_impact:
        `Caching would have saved about $${round(savedUsd, 6)} and ${Math.round(savedMs / 1000)} s of model time ` +
        `per ${spanLabel(w.duration_ms)} at this volume.`,
      model: g.model,
      endpoint: g.endpoint,
    });
  }
  return out;
}

/** A model's figures on one endpoint, when it has enough priced and scored answers to compare. */
interface ModelOnEndpoint {
  model: string;
  calls: number;
  costPerCall: number;
  quality: number;
  errorRate: number;
  scored: number;
  fallbacks: number;
}

function comparable(row: EndpointModelCalls): ModelOnEndpoint | null {
  // Per call answered or billed: a failure that cost nothing does not make a model cheaper.
  const billed = row.pricedRequests - row.freeFailures;
  if (row.qualityCount < CHEAPER_MIN_SCORED || billed < CHEAPER_MIN_SCORED || row.requests <= 0) return null;
  return {
    model: row.model,
    calls: row.requests,
    costPerCall: row.costUsd / billed,
    quality: row.qualitySum / row.qualityCount,
    errorRate: row.errors / row.requests,
    scored: row.qualityCount,
    fallbacks: row.fallbacks,
  };
}

/**
 * The dearer model's calls in the window were, in a share that counts, the cheaper one's failures (fallbacks it may
 * have started on): the cheaper model's own error rate does not show them (they are the dearer one's rows), so its
 * "as good" is not known. On a loopback upstream, a router sending every call to a failing gemini-2.5-flash-lite whose
 * calls fell back to gpt-4o-mini made the report advise "flash-lite answered as well as gpt-4o-mini for 33.3 % less
 * per call" once the short window no longer held the failures (before 2026-12-08).
 */
function carriedFailuresOf(facts: TrafficFacts, cheaper: ModelOnEndpoint, dearer: ModelOnEndpoint): boolean {
  return (
    dearer.fallbacks >= FALLBACK_MIN_CALLS &&
    dearer.fallbacks >= CHEAPER_MAX_FALLBACK_SHARE * dearer.calls &&
    fallbackSources(facts, dearer.model).includes(cheaper.model)
  );
}

/**
 * A cheaper model where the data says quality holds: on one endpoint, two models both served (each with at least
 * CHEAPER_MIN_SCORED priced, scored answers in the long window); the cheaper one's mean quality is within
 * CHEAPER_QUALITY_TOLERANCE of the dearer one's, its error rate within CHEAPER_ERROR_TOLERANCE, and it costs at least
 * CHEAPER_MIN_SAVING less per call; and `worseThan(cheaper, dearer)` (the live rules' verdict) is false. The comparison
 * is observational (the two models may have seen different prompts); the description says so, and the confidence
 * grows with the smaller sample.
 */
export function cheaperModelRecommendations(
  facts: TrafficFacts,
  worseThan: (cheaper: string, dearer: string) => boolean = () => false,
): InsightRecommendationDto[] {
  const w = facts.repeatsWindow;
  const byEndpoint = new Map<string, ModelOnEndpoint[]>();
  for (const row of facts.answered) {
    const figures = comparable(row);
    if (!figures) continue;
    byEndpoint.set(row.endpoint, [...(byEndpoint.get(row.endpoint) ?? []), figures]);
  }
  const out: InsightRecommendationDto[] = [];
  for (const [endpoint, models] of byEndpoint) {
    if (models.length < 2) continue;
    const dearest = models.reduce((a, b) => (b.costPerCall > a.costPerCall ? b : a));
    const candidates = models.filter(
      (m) =>
        m !== dearest &&
        m.costPerCall <= dearest.costPerCall * (1 - CHEAPER_MIN_SAVING) &&
        m.quality >= dearest.quality - CHEAPER_QUALITY_TOLERANCE &&
        m.errorRate <= dearest.errorRate + CHEAPER_ERROR_TOLERANCE &&
        !worseThan(m.model, dearest.model) &&
        !carriedFailuresOf(facts, m, dearest),
    );
    if (candidates.length === 0) continue;
    const best = candidates.reduce((a, b) => (b.costPerCall < a.costPerCall ? b : a));
    const saving = 1 - best.costPerCall / dearest.costPerCall;
    const savedUsd = (dearest.costPerCall - best.costPerCall) * dearest.calls;
    out.push({
      title: `Endpoint ${endpoint}: ${best.model} answered as well as ${dearest.model} for ${pct(saving)} less per call in the last ${spanLabel(w.duration_ms)}`,
      category: 'cost',
      priority: saving >= 0.6 ? 'high' : saving >= 0.4 ? 'medium' : 'low',
      confidence: confidenceOf(Math.min(best.scored, dearest.scored), saving),
      description:
        `Both models served ${endpoint}; ${best.model}'s mean quality and error rate were as good (within ` +
        `${CHEAPER_QUALITY_TOLERANCE} and ${pct(CHEAPER_ERROR_TOLERANCE)}) at a lower cost per call. Move part of ` +
        `${dearest.model}'s traffic on ${endpoint} to ${best.model} and watch llm.quality.score by model: the two may ` +
        `have seen different prompts, so confirm on a share of the traffic first.`,
      evidence: {
        summary:
          `On ${endpoint} in the ${spanLabel(w.duration_ms)} window ${w.from} – ${w.to}: ${dearest.model} ${dearest.calls} calls, ` +
          `$${round(dearest.costPerCall, 6)} per call, quality ${round(dearest.quality, 3)}, errors ` +
          `${pct(dearest.errorRate)}; ${best.model} ${best.calls} calls, $${round(best.costPerCall, 6)} per call, ` +
          `quality ${round(best.quality, 3)}, errors ${pct(best.errorRate)}.`,
        window: w,
        baseline_window: null,
        requests: dearest.calls + best.calls,
        figures: {
          current_cost_per_call_usd: round(dearest.costPerCall, 8),
          candidate_cost_per_call_usd: round(best.costPerCall, 8),
          current_quality: round(dearest.quality, 4),
          candidate_quality: round(best.quality, 4),
          current_error_rate: round(dearest.errorRate, 4),
          candidate_error_rate: round(best.errorRate, 4),
          saving_share: round(saving, 4),
        },
      },
      expected_impact: `Moving all of ${dearest.model}'s calls on ${endpoint} would have saved about $${round(savedUsd, 6)} per ${spanLabel(w.duration_ms)}.`,
      model: best.model,
      endpoint,
    });
  }
  return out;
}

/** Cost per call over the rest of the long window from which a rise is a spike, and the fewest billed calls each side. */
export const COST_SPIKE_RATIO = 3;
export const COST_SPIKE_MIN_CALLS = 5;

/**
 * A cost per call that jumped while still under HEALTH_COST_PER_REQUEST_USD (over it, the health score's cost rule
 * speaks): per endpoint and model, the short window's spend per call answered or billed against the rest of the long
 * window's, at least COST_SPIKE_RATIO ×. Before 2026-12-08 nothing was said: on a loopback upstream, answers growing
 * from 8 to 4000 output tokens took gpt-4o-mini on qa from $0.0000078 to $0.0024 a call (300 ×) with no item, the
 * target being $0.01. Medium priority: below an exceeded budget (critical) and the over-target rule.
 */
export function costSpikeRecommendations(facts: TrafficFacts, targetUsd: number): InsightRecommendationDto[] {
  const w = facts.refusalsWindow;
  const span = spanLabel(w.duration_ms);
  const long = new Map(facts.answered.map((r) => [`${r.endpoint}\u0000${r.model}`, r]));
  const out: InsightRecommendationDto[] = [];
  for (const now of facts.spendShort) {
    const all = long.get(`${now.endpoint}\u0000${now.model}`);
    if (!all) continue;
    const billedNow = now.pricedRequests - now.freeFailures;
    const billedBefore = all.pricedRequests - all.freeFailures - billedNow;
    const spentBefore = all.costUsd - now.costUsd;
    if (billedNow < COST_SPIKE_MIN_CALLS || billedBefore < COST_SPIKE_MIN_CALLS || spentBefore <= 0) continue;
    const perCall = now.costUsd / billedNow;
    const before = spentBefore / billedBefore;
    const ratio = perCall / before;
    if (ratio < COST_SPIKE_RATIO || perCall >= targetUsd) continue;
    const extra = (perCall - before) * billedNow;
    out.push({
      title:
        `Endpoint ${now.endpoint}, model ${now.model}: cost per call rose ${round(ratio, 1)} × in the last ${span}, ` +
        `from $${round(before, 8)} to $${round(perCall, 8)}`,
      category: 'cost',
      priority: 'medium',
      confidence: confidenceOf(Math.min(billedNow, billedBefore), (ratio - 1) / (2 * COST_SPIKE_RATIO)),
      description:
        `Still under the $${targetUsd} target (HEALTH_COST_PER_REQUEST_USD), but several times what these calls cost ` +
        `earlier in the ${spanLabel(facts.repeatsWindow.duration_ms)} window. Look for what changed on ${now.endpoint}: ` +
        `longer answers or prompts (llm.tokens.* by endpoint and model), a long-context price tier, failed attempts ` +
        `the provider billed (retries, fallbacks), or a caller sending more (GET /usage/spend by API key). Cap ` +
        `output tokens (LLM_MAX_OUTPUT_TOKENS) if the answers grew; at this pace the spend is ${round(ratio, 1)} × ` +
        `what this traffic cost before.`,
      evidence: {
        summary:
          `${billedNow} calls answered or billed on ${now.endpoint} by ${now.model} cost $${round(now.costUsd, 6)} ` +
          `($${round(perCall, 8)} each) in the ${span} window ${w.from} – ${w.to}; ${billedBefore} earlier in the ` +
          `${spanLabel(facts.repeatsWindow.duration_ms)} window cost $${round(before, 8)} each.`,
        window: w,
        baseline_window: facts.repeatsWindow,
        requests: billedNow,
        figures: {
          cost_per_request_usd: round(perCall, 8),
          baseline_cost_per_request_usd: round(before, 8),
          cost_ratio: round(ratio, 2),
          window_spend_usd: round(now.costUsd, 6),
          extra_spend_usd: round(extra, 6),
          target_cost_per_request_usd: targetUsd,
        },
      },
      expected_impact:
        `Back at $${round(before, 8)} per call, these ${billedNow} calls would have cost about $${round(extra, 6)} ` +
        `less per ${span}.`,
      model: now.model,
      endpoint: now.endpoint,
    });
  }
  return out;
}
