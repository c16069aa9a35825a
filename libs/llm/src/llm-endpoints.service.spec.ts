import { DomainError } from '@app/common';
import { testConfig } from '../../../test/support/app-config';
import type { DrillFlags } from './llm-call.types';
import { LlmEndpointsService } from './llm-endpoints.service';
import type { LlmService } from './llm.service';
import { PriceTable, shippedPriceTable } from './pricing/price-table';
import { TokenEstimator } from './tokens/token-estimator';

/** The prompt as sent: drills left out (the cap is checked on what the drills make of it, here nothing). */
const llm = {
  preparePrompt: (prompt: string, _drills: DrillFlags) => ({ prompt, applied: [] }),
} as unknown as LlmService;
const prices = new PriceTable(shippedPriceTable());
const tokens = new TokenEstimator();

function capOf(env: Record<string, string>, prompt: string, repetitions: number): DomainError | undefined {
  const endpoints = new LlmEndpointsService(testConfig(env), llm, prices, tokens);
  try {
    endpoints.stressInput({ prompt, repetitions }, {});
    return undefined;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
}

describe('LlmEndpointsService: the /stress cost cap (STRESS_MAX_COST_USD)', () => {
  // About 25,000 input tokens: on gpt-4o-mini (with its 2048 output tokens) under $0.005, on gpt-4o about $0.083.
  const words = Array.from({ length: 142 }, (_, i) => `w${(i * 7919) % 10007}q${i}`).join(' ');
  const prompt = words.slice(0, 1000);

  it('prices the dearest model the call may reach: a fallback, a routed candidate', () => {
    expect(capOf({ LLM_MODEL: 'gpt-4o-mini' }, prompt, 75)).toBeUndefined();
    // Before, LLM_MODEL alone was priced: the call was let through and cost $0.082 when gpt-4o answered it.
    const fallback = capOf({ LLM_MODEL: 'gpt-4o-mini', LLM_FALLBACK_MODELS: 'gpt-4o' }, prompt, 75);
    expect(fallback?.code).toBe('COST_CAP_EXCEEDED');
    expect(fallback?.extensions?.estimatedMaxCostUsd).toBeGreaterThan(0.05);
    const routed = capOf({ LLM_MODEL: 'gpt-4o-mini', ROUTER_CANDIDATES: 'gpt-4o-mini,gpt-4o' }, prompt, 75);
    expect(routed?.code).toBe('COST_CAP_EXCEEDED');
  });

  it('does not cap a chain none of whose models is priced', () => {
    expect(capOf({ LLM_MODEL: 'local-llama', LLM_FALLBACK_MODELS: 'local-mistral' }, prompt, 75)).toBeUndefined();
  });
});
