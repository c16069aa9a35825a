import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { routerActive } from '../routing/model-router';

/** One servable model name: a model of the chain, an alias of a model, a router candidate, or `auto`. */
export interface CatalogEntry {
  id: string;
  /** The model it calls (itself for a model of the chain); for `auto`, the first candidate until the router chooses. */
  model: string;
  /** `auto`: the model router chooses the call's model (docs/router.md). */
  routed?: boolean;
}

/** The model name that asks the router to choose (served while the router is at work). */
export const ROUTED_MODEL_ID = 'auto';

/**
 * The model names `/v1` serves: the configured chain (LLM_MODEL, LLM_FALLBACK_MODELS) and the aliases
 * (LLM_MODEL_ALIASES); while the model router is at work (docs/router.md), its candidates (ROUTER_CANDIDATES) and
 * `auto`, which lets the router choose. A request's `model` must be one of them; it puts that model first in its
 * call's chain.
 */
@Injectable()
export class ModelCatalog {
  readonly entries: readonly CatalogEntry[];
  private readonly byId: ReadonlyMap<string, CatalogEntry>;

  constructor(config: AppConfig) {
    const chain = [config.llm.model, ...config.llm.fallbackModels];
    const { router } = config;
    const routing = routerActive(router);
    const models = routing ? [...new Set([...chain, ...router.candidates])] : chain;
    const aliases = Object.entries(config.llm.modelAliases).filter(([id]) => !models.includes(id));
    this.entries = [
      ...models.map((model) => ({ id: model, model })),
      ...aliases.map(([id, model]) => ({ id, model })),
      ...(routing && !models.includes(ROUTED_MODEL_ID)
        ? [{ id: ROUTED_MODEL_ID, model: router.candidates[0]!, routed: true }]
        : []),
    ];
    this.byId = new Map(this.entries.map((e) => [e.id, e]));
  }

  /** The model a name calls; undefined for a name not served here. */
  resolve(id: string): string | undefined {
    return this.byId.get(id)?.model;
  }

  /** The name asks the router to choose (`auto`). */
  routed(id: string): boolean {
    return this.byId.get(id)?.routed === true;
  }
}
