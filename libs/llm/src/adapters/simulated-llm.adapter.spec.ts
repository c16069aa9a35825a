import { testConfig } from '../../../../test/support/app-config';
import { LlmProviderError, type LlmGenerateRequest } from '../ports/llm-provider.port';
import { DEFAULT_LLM_DRILLS } from '../pipeline/llm-drills';
import { TokenEstimator } from '../tokens/token-estimator';
import { SimulatedLlmAdapter } from './simulated-llm.adapter';

const tokens = new TokenEstimator();
const request = (prompt: string, timeoutMs = 1000): LlmGenerateRequest => ({
  model: 'gemini-2.5-flash',
  prompt,
  temperature: 0.7,
  maxOutputTokens: 2048,
  timeoutMs,
  signal: AbortSignal.timeout(timeoutMs),
});
const adapter = (env: Record<string, string> = {}) =>
  new SimulatedLlmAdapter(
    testConfig({ SIM_LATENCY_MEDIAN_MS: '5', ...env }).llm.simulated,
    tokens,
    DEFAULT_LLM_DRILLS.badPrompt,
  );

describe('SimulatedLlmAdapter', () => {
  it('says it is simulated and is deterministic for a prompt and seed', async () => {
    const a = adapter();
    expect(a.simulated).toBe(true);
    expect(a.name).toBe('simulated');
    const prompt =
      'Q: What is the boiling point of water?\nContext: Water boils at 100 degrees Celsius at sea level. Ice melts at zero.';
    const first = await a.generate(request(prompt));
    const second = await adapter().generate(request(prompt));
    expect(first.text).toBe(second.text);
    expect(first.text).toContain('Water boils at 100 degrees Celsius');
    expect(first.text).not.toContain('Ice melts');
    expect(first.usage).toMatchObject({
      estimated: true,
      inputTokens: tokens.count(prompt),
      outputTokens: tokens.count(first.text),
    });
    const otherSeed = await adapter({ SIM_SEED: '7' }).generate(request('Why is the sky blue?'));
    const sameSeed = await adapter({ SIM_SEED: '42' }).generate(request('Why is the sky blue?'));
    expect(otherSeed.text).not.toBe(sameSeed.text);
  });

  it("takes a request's own seed (/v1 `seed`): the same seed, the same answer; 0 or none, SIM_SEED's", async () => {
    const ask = async (seed?: number): Promise<string> =>
      (await adapter().generate({ ...request('Why is the sky blue?'), ...(seed !== undefined ? { seed } : {}) })).text;
    const [none, zero, five, fiveAgain] = [await ask(), await ask(0), await ask(5), await ask(5)];
    expect(zero).toBe(none);
    expect(fiveAgain).toBe(five);
    expect(five).not.toBe(none);
  });

  it('injects errors, 429s with Retry-After and hangs that end at the timeout', async () => {
    await expect(adapter({ SIM_ERROR_RATE: '1' }).generate(request('x'))).rejects.toMatchObject({
      kind: 'server',
      details: { status: 500 },
    });
    await expect(adapter({ SIM_RATE_LIMIT_RATE: '1' }).generate(request('x'))).rejects.toMatchObject({
      kind: 'rate_limit',
      details: { retryAfterMs: 1000 },
    });
    const started = Date.now();
    const hang = await adapter({ SIM_TIMEOUT_RATE: '1' })
      .generate(request('x', 100))
      .catch((e: unknown) => e);
    expect(hang).toBeInstanceOf(LlmProviderError);
    expect((hang as LlmProviderError).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(10_000); // a hang guard (the request's 100 ms timeout applied)
  });

  it('blocks the bad-prompt drill and injected safety faults, and returns empty answers on demand', async () => {
    const blocked = await adapter().generate(request(DEFAULT_LLM_DRILLS.badPrompt));
    expect(blocked.safetyBlock).toEqual({ stage: 'prompt', reason: 'SAFETY (simulated safety filter)' });
    expect((await adapter({ SIM_SAFETY_BLOCK_RATE: '1' }).generate(request('hi'))).safetyBlock?.stage).toBe(
      'candidate',
    );
    const empty = await adapter({ SIM_EMPTY_RATE: '1' }).generate(request('hi'));
    expect(empty.text).toBe('');
    expect(empty.finishReason).toBe('other');
  });

  it('streams the same text it would return', async () => {
    const prompt = 'Explain photosynthesis in plants.';
    const whole = await adapter().generate(request(prompt));
    let streamed = '';
    for await (const event of adapter().stream(request(prompt))) if (event.type === 'delta') streamed += event.text;
    expect(streamed).toBe(whole.text);
  });
});
