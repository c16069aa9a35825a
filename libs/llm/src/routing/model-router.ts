import { Injectable } from '@nestjs/common';
import { AppConfig, type RouteConstraints } from '@app/config';
import { extractRouteFeatures, RoutePredictor, type RoutePredictorStatus } from '@app/ml';
import { TracerPort } from '@app/telemetry';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import type { LlmCallInput } from '../llm-call.types';
import { CircuitBreakers } from '../pipeline/circuit-breakers';
import { PriceTable } from '../pricing/price-table';
import { type DecisionCounts, DecisionWindow } from './decision-window';
import { ROUTE_CONFIDENCE, RouteDecider, type RouteDecision, type RouterMode } from './route-decider';

/** Output tokens the rules assume when they check a candidate against max_cost_usd. */
const RULES_OUTPUT_TOKENS = 512;

/** The router is at work: a mode other than off and at least two candidates (else LLM_MODEL answers every call). */
export function routerActive(router: AppConfig['router']): boolean {
  return router.mode !== 'off' && router.candidates.length >= 2;
}

/** A routed call: its decision, the constraints it was held to, and its features as the ledger keeps them. */
export interface RoutedCall {
  decision: RouteDecision;
  constraints: RouteConstraints;
  features: ReturnType<typeof extractRouteFeatures>;
}

/** What `GET /llm/router` shows. */
export interface RouterStatus {
  mode: RouterMode;
  /** The router is at work: a mode other than off and at least two candidates. */
  active: boolean;
  candidates: readonly string[];
  exploration: number;
  minHistory: number;
  constraints: Readonly<Record<string, RouteConstraints>>;
  predictor: RoutePredictorStatus;
  decisions: DecisionCounts;
}

/**
 * Chooses each call's model among ROUTER_CANDIDATES (docs/router.md): the request's features, the constraints of its
 * endpoint tightened by the request's own, the candidates whose circuit admits calls, then the rules or the learned
 * predictor (RouteDecider). Per call: nothing about a decision is stored on a shared object, and the chosen model
 * goes to the call's own chain (then the configured chain as its fallbacks). Chat calls name their model and are
 * not routed, unless the model they name is `auto`.
 */
@Injectable()
export class ModelRouter {
  private readonly decider: RouteDecider;
  private readonly window = new DecisionWindow();
  readonly active: boolean;

  constructor(
    private readonly config: AppConfig,
    private readonly predictor: RoutePredictor,
    private readonly prices: PriceTable,
    private readonly breakers: CircuitBreakers,
    private readonly telemetry: LlmCallInstrumentation,
    private readonly tracer: TracerPort,
  ) {
    const { router } = config;
    this.active = routerActive(router);
    this.decider = new RouteDecider({
      mode: router.mode,
      candidates: router.candidates,
      exploration: router.exploration,
      minHistory: router.minHistory,
      predictor,
      price: (model, input, output) => prices.maxCost(model, input, output),
      rulesOutputTokens: RULES_OUTPUT_TOKENS,
      // The model's own tuned threshold, else the default.
      confidence: predictor.status().confidence ?? ROUTE_CONFIDENCE,
      random: Math.random,
    });
    for (const model of router.candidates) breakers.get(model);
  }

  /** The call's routing, or undefined when it is not routed (router off or one candidate, a chat call naming its model). */
  route(input: LlmCallInput): RoutedCall | undefined {
    if (!this.active || (input.chat !== undefined && input.chat.routed !== true)) return undefined;
    const features = extractRouteFeatures({
      endpoint: input.endpoint,
      userText: input.userText,
      prompt: input.prompt,
      document: input.document,
    });
    const constraints = this.constraintsOf(input);
    const decision = this.decider.decide(
      features,
      constraints,
      (model) => this.breakers.get(model).current() !== 'open',
    );
    this.window.add(decision.selectedModel, decision.reason);
    this.telemetry.routed(input.endpoint, decision.selectedModel, decision.reason);
    this.tracer.tagRequest({
      'llm.router.mode': decision.mode,
      'llm.router.selected_model': decision.selectedModel,
      'llm.router.reason': decision.reason,
      'llm.router.explored': decision.explored,
    });
    return { decision, constraints, features };
  }

  /** The endpoint's defaults (ROUTER_CONSTRAINTS: the endpoint's, else `*`), tightened by the request's own. */
  constraintsOf(input: LlmCallInput): RouteConstraints {
    const defaults = this.config.router.constraints;
    const base = defaults[input.endpoint] ?? defaults['*'] ?? {};
    const asked = input.routing ?? {};
    return {
      ...tighter(base.minQuality, asked.minQuality, Math.max, 'minQuality'),
      ...tighter(base.maxLatencyMs, asked.maxLatencyMs, Math.min, 'maxLatencyMs'),
      ...tighter(base.maxCostUsd, asked.maxCostUsd, Math.min, 'maxCostUsd'),
    };
  }

  status(): RouterStatus {
    const { router } = this.config;
    return {
      mode: router.mode,
      active: this.active,
      candidates: router.candidates,
      exploration: router.exploration,
      minHistory: router.minHistory,
      constraints: router.constraints,
      predictor: this.predictor.status(),
      decisions: this.window.counts(),
    };
  }
}

/** The tighter of a default and a request's bound (either may be absent). */
function tighter<K extends keyof RouteConstraints>(
  base: number | undefined,
  asked: number | undefined,
  pick: (a: number, b: number) => number,
  key: K,
): Partial<RouteConstraints> {
  if (base === undefined && asked === undefined) return {};
  const value = base === undefined ? asked! : asked === undefined ? base : pick(base, asked);
  return { [key]: value };
}
