import { ConfigError, loadConfig, parseRouteConstraints } from './load-config';

function failure(env: Record<string, string>): string {
  try {
    loadConfig({ envFile: false, env: { DD_TRACE_ENABLED: 'false', ...env } });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('router configuration', () => {
  it('parses ROUTER_CONSTRAINTS by endpoint', () => {
    expect(
      parseRouteConstraints('*:min_quality=0.7; reason:min_quality=0.8,max_latency_ms=5000;qa:max_cost_usd=0.01'),
    ).toEqual({
      '*': { minQuality: 0.7 },
      reason: { minQuality: 0.8, maxLatencyMs: 5000 },
      qa: { maxCostUsd: 0.01 },
    });
    expect(parseRouteConstraints('')).toEqual({});
  });

  it('stops the start naming the variable and the bad part', () => {
    expect(failure({ ROUTER_CONSTRAINTS: 'qa:min_quality=2' })).toMatch(
      /ROUTER_CONSTRAINTS: qa:min_quality must be a number from 0 to 1/,
    );
    expect(failure({ ROUTER_CONSTRAINTS: 'qa:speed=1' })).toMatch(/ROUTER_CONSTRAINTS: unknown key "speed"/);
    expect(failure({ ROUTER_CONSTRAINTS: 'min_quality=0.5' })).toMatch(/ROUTER_CONSTRAINTS: "min_quality=0.5" is not/);
    expect(failure({ ROUTER_MODE: 'smart' })).toMatch(/ROUTER_MODE/);
    expect(failure({ ROUTER_EXPLORATION: '0.9' })).toMatch(/ROUTER_EXPLORATION/);
    expect(failure({ ROUTER_CANDIDATES: 'a;b' })).toMatch(/ROUTER_CANDIDATES: must be a comma-separated list/);
  });

  it('defaults: rules, no candidates (LLM_MODEL alone), a few percent exploration', () => {
    const config = loadConfig({ envFile: false, env: { DD_TRACE_ENABLED: 'false' } });
    expect(config.router).toEqual({
      mode: 'rules',
      candidates: [],
      exploration: 0.03,
      minHistory: 500,
      constraints: { '*': { minQuality: 0.5 } },
    });
    const set = loadConfig({
      envFile: false,
      env: { DD_TRACE_ENABLED: 'false', ROUTER_CANDIDATES: ' a, b ,a', ROUTER_EXPLORATION: '0' },
    });
    expect(set.router.candidates).toEqual(['a', 'b']);
    expect(set.router.exploration).toBe(0);
  });
});

describe('OPENAI_REASONING_MODELS', () => {
  const load = (value: string): readonly string[] =>
    loadConfig({ envFile: false, env: { DD_TRACE_ENABLED: 'false', OPENAI_REASONING_MODELS: value } }).llm.openai
      .reasoningModels;

  it('is o1, o3, o4 and gpt-5 by default, a deduplicated list when set, and none with none', () => {
    expect(loadConfig({ envFile: false, env: { DD_TRACE_ENABLED: 'false' } }).llm.openai.reasoningModels).toEqual([
      'o1',
      'o3',
      'o4',
      'gpt-5',
    ]);
    expect(load(' deepseek-r1 , o3,o3 ')).toEqual(['deepseek-r1', 'o3']);
    expect(load('none')).toEqual([]);
  });

  it('refuses at boot what is not a list of model-name prefixes, naming the variable', () => {
    expect(failure({ OPENAI_REASONING_MODELS: 'o1;o3' })).toMatch(/OPENAI_REASONING_MODELS.*comma-separated list/);
  });
});
