import { seededRandom } from '@app/common';
import type { AppConfig } from '@app/config';
import {
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProvider,
  LlmProviderError,
  type LlmStreamEvent,
} from '../ports/llm-provider.port';
import { isTimeoutReason, sleep } from '../reliability/sleep';
import { timeoutText } from './upstream-errors';
import type { TokenEstimator } from '../tokens/token-estimator';
import { NO_FAULTS, type ProviderFaultDrill } from '../drills/provider-fault-drill';
import { planSimulatedCall, simulatedProfile } from './simulated-profiles';
import { hash32, simulatedAnswer } from './simulated-text';

type Fault = 'none' | 'error' | 'rate_limit' | 'timeout' | 'slow' | 'empty' | 'safety';
interface Plan {
  fault: Fault;
  latencyMs: number;
  /** When the first streamed delta is due (ms). */
  firstTokenMs: number;
  text: string;
}
/** SIM_LATENCY_MEDIAN_MS's default: with model profiles on, latencies are scaled by SIM_LATENCY_MEDIAN_MS / this. */
const DEFAULT_LATENCY_MEDIAN_MS = 350;

/**
 * A simulated model provider, for running offline and for drills. It says so (`simulated: true`, provider
 * "simulated"); answers are extractive and deterministic for a prompt and SIM_SEED; token counts come from
 * a real tokenizer (marked estimated); latency is log-normal around SIM_LATENCY_MEDIAN_MS; faults
 * (errors, 429s, hangs until the timeout, slow, empty answers, safety blocks) are injected at the configured
 * rates from a seeded sequence. Its safety filter blocks any prompt that contains `blockedPrompt` (the
 * pipeline's `simulate_bad_prompt` drill sends one: LlmDrillsOptions.badPrompt).
 *
 * With SIM_MODEL_PROFILES on and a model that has a profile (simulated-profiles.ts), the model's quality, latency
 * and upstream failure rate come from its published numbers: planSimulatedCall decides whether the model answers
 * correctly (else a degraded answer), and its latency (scaled by SIM_LATENCY_MEDIAN_MS / 350, so 1 at the
 * default); the profile's 5xx rate is one more band of the seeded fault sequence (transient: a retry may pass).
 * The global fault bands apply on top, unchanged.
 */
export class SimulatedLlmAdapter extends LlmProvider {
  readonly name = 'simulated' as const;
  readonly simulated = true;
  /** JSON mode wraps the answer in an object; it cannot follow a schema or call tools (refused before sending). */
  override readonly capabilities = { tools: false, jsonObject: true, jsonSchema: false };
  private readonly faults: () => number;

  constructor(
    private readonly config: AppConfig['llm']['simulated'],
    private readonly tokens: TokenEstimator,
    private readonly blockedPrompt: string,
    /** Faults turned on at run time (`POST /llm/drills/faults`), on top of the configured rates. */
    private readonly drill?: ProviderFaultDrill,
  ) {
    super();
    this.faults = seededRandom(config.seed);
  }

  async generate(request: LlmGenerateRequest): Promise<LlmGenerateResult> {
    const plan = this.plan(request);
    await this.wait(plan.latencyMs, request);
    return this.finish(plan, request);
  }

  async *stream(request: LlmGenerateRequest): AsyncIterable<LlmStreamEvent> {
    const plan = this.plan(request);
    // First token after the plan's first-token time, the rest spread over the remainder.
    await this.wait(plan.firstTokenMs, request);
    const result = this.finish(plan, request);
    const pieces = result.text.match(/\S+\s*/g) ?? [];
    const step = Math.max(0, plan.latencyMs - plan.firstTokenMs) / Math.max(1, Math.ceil(pieces.length / 4));
    for (let i = 0; i < pieces.length; i += 4) {
      yield { type: 'delta', text: pieces.slice(i, i + 4).join('') };
      if (i + 4 < pieces.length) await this.wait(step, request);
    }
    yield { type: 'done', result };
  }

  private plan(request: LlmGenerateRequest): Plan {
    const r = this.faults();
    const c = this.config;
    const d = this.drill?.rates() ?? NO_FAULTS;
    const profile = c.modelProfiles ? simulatedProfile(request.model) : undefined;
    const bands: [Fault, number][] = [
      // A running fault drill raises a rate; it never lowers a configured one.
      ['error', Math.max(c.errorRate, d.errorRate)],
      ['rate_limit', Math.max(c.rateLimitRate, d.rateLimitRate)],
      ['timeout', Math.max(c.timeoutRate, d.timeoutRate)],
      ['slow', Math.max(c.slowRate, d.slowRate)],
      ['empty', c.emptyRate],
      ['safety', c.safetyBlockRate],
      // The model's own upstream 5xx share, drawn from the same sequence (so transient, like a real 5xx).
      ['error', profile?.failureRate ?? 0],
    ];
    let fault: Fault = 'none';
    let edge = 0;
    for (const [name, rate] of bands) {
      edge += rate;
      if (r < edge) {
        fault = name;
        break;
      }
    }
    // A request's own seed (`seed` on /v1) picks another answer, the same for the same seed; 0 or none: SIM_SEED's.
    const answerSeed = c.seed ^ (request.seed ?? 0);
    const modelPlan = profile
      ? planSimulatedCall(request.model, answeredPrompt(request), answerSeed, { latencySigma: c.latencySigma })
      : undefined;
    if (modelPlan) {
      const scale = c.latencyMedianMs / DEFAULT_LATENCY_MEDIAN_MS;
      return this.faulted(fault, {
        fault,
        latencyMs: modelPlan.latencyMs * scale,
        firstTokenMs: modelPlan.firstTokenMs * scale,
        text: shaped(modelPlan.text, request),
      });
    }
    // Box-Muller on the prompt's own sequence: the same prompt gets the same latency.
    const random = seededRandom(hash32(request.prompt, c.seed ^ 0x9e3779b9));
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const latencyMs = c.latencyMedianMs * Math.exp(c.latencySigma * z);
    return this.faulted(fault, {
      fault,
      latencyMs,
      firstTokenMs: latencyMs * 0.3,
      text: shaped(simulatedAnswer(answeredPrompt(request), answerSeed), request),
    });
  }

  /** Slow calls take 8x as long; a hang lasts until the per-attempt timeout (or the client going away) ends it. */
  private faulted(fault: Fault, plan: Plan): Plan {
    if (fault === 'slow') return { ...plan, latencyMs: plan.latencyMs * 8, firstTokenMs: plan.firstTokenMs * 8 };
    if (fault === 'timeout') return { ...plan, latencyMs: 10 * 60_000, firstTokenMs: 10 * 60_000 * 0.3 };
    return plan;
  }

  private async wait(ms: number, request: LlmGenerateRequest): Promise<void> {
    try {
      await sleep(ms, request.signal);
    } catch (reason) {
      throw this.abortError(reason, request);
    }
  }

  private finish(plan: { fault: Fault; text: string }, request: LlmGenerateRequest): LlmGenerateResult {
    const details = { provider: this.name, model: request.model };
    if (plan.fault === 'error') {
      throw new LlmProviderError('server', 'simulated upstream error (HTTP 500)', { ...details, status: 500 });
    }
    if (plan.fault === 'rate_limit') {
      throw new LlmProviderError('rate_limit', 'simulated rate limit (HTTP 429)', {
        ...details,
        status: 429,
        retryAfterMs: 1000,
      });
    }
    if (plan.fault === 'timeout') {
      // Only reached if the hang was not aborted (it always is: it outlasts any allowed timeout).
      throw new LlmProviderError('timeout', 'simulated hang', { ...details, status: 504 });
    }
    const inputTokens =
      this.tokens.count(request.prompt) +
      (request.systemInstruction ? this.tokens.count(request.systemInstruction) : 0);
    const blocked = request.prompt.includes(this.blockedPrompt);
    if (blocked || plan.fault === 'safety') {
      const stage = blocked ? 'prompt' : 'candidate';
      return {
        text: '',
        model: request.model,
        finishReason: 'safety',
        rawFinishReason: 'SAFETY',
        usage: {
          inputTokens,
          outputTokens: 0,
          totalTokens: inputTokens,
          cachedTokens: 0,
          reasoningTokens: 0,
          estimated: true,
        },
        safetyBlock: { stage, reason: 'SAFETY (simulated safety filter)' },
      };
    }
    let text = plan.fault === 'empty' ? '' : plan.text;
    let outputTokens = this.tokens.count(text);
    let finishReason: LlmGenerateResult['finishReason'] = plan.fault === 'empty' ? 'other' : 'stop';
    if (outputTokens > request.maxOutputTokens) {
      text = text.slice(0, Math.floor((text.length * request.maxOutputTokens) / outputTokens));
      outputTokens = request.maxOutputTokens;
      finishReason = 'length';
    }
    return {
      text,
      model: request.model,
      finishReason,
      rawFinishReason: finishReason.toUpperCase(),
      usage: {
        inputTokens,
        outputTokens,
        totalTokens: inputTokens + outputTokens,
        cachedTokens: 0,
        reasoningTokens: 0,
        estimated: true,
      },
    };
  }

  private abortError(reason: unknown, request: LlmGenerateRequest): LlmProviderError {
    const details = { provider: this.name, model: request.model };
    return isTimeoutReason(reason)
      ? new LlmProviderError('timeout', `simulated call: ${timeoutText(request.signal)}`, details, { cause: reason })
      : new LlmProviderError('aborted', 'simulated call aborted by the client', details, { cause: reason });
  }
}

/** What the simulated model answers: a conversation's last user message, else the prompt. */
function answeredPrompt(request: LlmGenerateRequest): string {
  const users = (request.messages ?? []).filter((m) => m.role === 'user');
  return users[users.length - 1]?.content ?? request.prompt;
}

/** The answer cut at the first stop sequence (left out, as providers do), then as JSON in JSON mode. */
function shaped(answer: string, request: LlmGenerateRequest): string {
  let text = answer;
  for (const stop of request.stopSequences ?? []) {
    const at = text.indexOf(stop);
    if (at >= 0) text = text.slice(0, at);
  }
  return request.responseFormat?.type === 'json_object' ? JSON.stringify({ answer: text }) : text;
}
