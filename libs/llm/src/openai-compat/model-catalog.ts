import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';

/** One servable model name: a model of the chain, or an alias of a model. */
export interface CatalogEntry {
  id: string;
  /** The model it calls (itself for a model of the chain). */
  model: string;
}

/**
 * The model names `/v1` serves: the configured chain (LLM_MODEL, LLM_FALLBACK_MODELS) and the aliases
 * (LLM_MODEL_ALIASES). A request's `model` must be one of them; it puts that model first in its call's chain.
 */
@Injectable()
export class ModelCatalog {
  readonly entries: readonly CatalogEntry[];
  private readonly byId: ReadonlyMap<string, string>;

  constructor(config: AppConfig) {
    const chain = [config.llm.model, ...config.llm.fallbackModels];
    this.entries = [
      ...chain.map((model) => ({ id: model, model })),
      ...Object.entries(config.llm.modelAliases).map(([id, model]) => ({ id, model })),
    ];
    this.byId = new Map(this.entries.map((e) => [e.id, e.model]));
  }

  /** The model a name calls; undefined for a name not served here. */
  resolve(id: string): string | undefined {
    return this.byId.get(id);
  }
}
