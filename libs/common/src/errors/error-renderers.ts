import { Injectable } from '@nestjs/common';
import type { ProblemResponse } from './problem';

/** An error as a route family answers it when problem+json is not its contract. */
export interface RenderedError {
  status: number;
  contentType: string;
  headers: Readonly<Record<string, string>>;
  body: string;
}

/** Turns the problem the global filter built (and what was thrown) into another error body. */
export type ErrorRenderer = (thrown: unknown, problem: ProblemResponse) => RenderedError;

/**
 * The error bodies of path prefixes whose API is not problem+json. A lib registers its prefix at start; the global
 * filter (`ProblemDetailsFilter`) then renders every error of a request under it that way, including the errors no
 * controller saw: a body that is not JSON, an unknown path, a method the route does not take. (The OpenAI-compatible
 * API under `/v1/` answers OpenAI error bodies, which its clients parse.)
 */
@Injectable()
export class ErrorRenderers {
  private readonly byPrefix: { prefix: string; render: ErrorRenderer }[] = [];

  /** `prefix` ends with `/` (`/v1/`); the path without it (`/v1`) belongs to it too. */
  register(prefix: string, render: ErrorRenderer): void {
    if (!prefix.startsWith('/') || !prefix.endsWith('/'))
      throw new Error(`an error prefix starts and ends with /: ${prefix}`);
    this.byPrefix.push({ prefix, render });
  }

  /** The renderer of the request's path (its query ignored), if a lib registered one for it. */
  for(url: string): ErrorRenderer | undefined {
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    return this.byPrefix.find(({ prefix }) => path.startsWith(prefix) || path === prefix.slice(0, -1))?.render;
  }
}
