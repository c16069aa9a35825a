import { testConfig } from '../../../../test/support/app-config';
import { SimulatedLlmAdapter } from '../adapters/simulated-llm.adapter';
import { DEFAULT_LLM_DRILLS } from '../pipeline/llm-drills';
import { type LlmGenerateRequest, LlmProviderError } from '../ports/llm-provider.port';
import { TokenEstimator } from '../tokens/token-estimator';
import { NO_FAULTS, ProviderFaultDrill } from './provider-fault-drill';

const request = (prompt: string): LlmGenerateRequest => ({
  model: 'gemini-2.5-flash',
  prompt,
  temperature: 0.7,
  maxOutputTokens: 256,
  timeoutMs: 1000,
  signal: AbortSignal.timeout(1000),
});

describe('ProviderFaultDrill', () => {
  it('holds its rates for the duration, then ends by itself; stop ends it at once', () => {
    let now = 1_000;
    const drill = new ProviderFaultDrill(
      () => now,
      () => now,
    );
    expect(drill.rates()).toEqual(NO_FAULTS);
    drill.start({ ...NO_FAULTS, errorRate: 0.5 }, 2_000);
    now += 1_999;
    expect(drill.active()).toMatchObject({ startedAt: 1_000, endsAt: 3_000 });
    expect(drill.rates().errorRate).toBe(0.5);
    now += 1;
    expect(drill.active()).toBeUndefined();
    expect(drill.rates()).toEqual(NO_FAULTS);
    drill.start({ ...NO_FAULTS, slowRate: 1 }, 60_000);
    expect(drill.stop()).toMatchObject({ rates: { slowRate: 1 } });
    expect(drill.active()).toBeUndefined();
  });

  it('ends after its duration though the wall clock stepped back an hour meanwhile (NTP, a VM resumed)', () => {
    let wall = Date.UTC(2026, 11, 7, 12);
    let monotonic = 50_000;
    const drill = new ProviderFaultDrill(
      () => wall,
      () => monotonic,
    );
    drill.start({ ...NO_FAULTS, errorRate: 1 }, 3_000);
    wall -= 3_600_000;
    monotonic += 2_999;
    expect(drill.rates().errorRate).toBe(1);
    monotonic += 1;
    expect(drill.active()).toBeUndefined();
    // ...and a wall clock stepped forward does not end it early.
    drill.start({ ...NO_FAULTS, errorRate: 1 }, 3_000);
    wall += 3_600_000;
    expect(drill.active()).toMatchObject({ rates: { errorRate: 1 } });
  });

  it("turns the simulated provider's faults on while it runs, on top of the configured rates", async () => {
    let now = 0;
    const drill = new ProviderFaultDrill(
      () => now,
      () => now,
    );
    const config = testConfig({ SIM_LATENCY_MEDIAN_MS: '1' }).llm.simulated;
    const adapter = new SimulatedLlmAdapter(config, new TokenEstimator(), DEFAULT_LLM_DRILLS.badPrompt, drill);
    await expect(adapter.generate(request('Why is the sky blue?'))).resolves.toMatchObject({ finishReason: 'stop' });
    drill.start({ ...NO_FAULTS, errorRate: 1 }, 10_000);
    const failure = await adapter.generate(request('Why is the sky blue?')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LlmProviderError);
    expect(failure).toMatchObject({ kind: 'server', details: { status: 500 } });
    drill.start({ ...NO_FAULTS, rateLimitRate: 1 }, 10_000);
    await expect(adapter.generate(request('Why is the sky blue?'))).rejects.toMatchObject({ kind: 'rate_limit' });
    now += 10_000; // the drill has ended: answers again
    await expect(adapter.generate(request('Why is the sky blue?'))).resolves.toMatchObject({ finishReason: 'stop' });
    // A configured rate is never lowered by a drill of lower rates.
    const always = new SimulatedLlmAdapter(
      testConfig({ SIM_LATENCY_MEDIAN_MS: '1', SIM_ERROR_RATE: '1' }).llm.simulated,
      new TokenEstimator(),
      DEFAULT_LLM_DRILLS.badPrompt,
      drill,
    );
    drill.start({ ...NO_FAULTS, slowRate: 0.1 }, 10_000);
    await expect(always.generate(request('Why is the sky blue?'))).rejects.toMatchObject({ kind: 'server' });
  });
});
