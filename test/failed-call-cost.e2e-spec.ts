import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { FakeGeminiServer } from './support/fake-gemini-server';
import type { FakeReply } from './support/fake-llm-server';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { post, startWithTelemetry, type TelemetryStack } from './support/http';

/** A ledger row as the test reads it from the service's SQLite file. */
interface LedgerRow {
  endpoint: string;
  model: string;
  status: string;
  error_type: string | null;
  input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  tokens_estimated: number;
  cost_usd: number | null;
}

/** USD per 1M tokens (libs/llm/src/pricing/price-table.json). */
const FLASH = { input: 0.3, output: 2.5 };
const LITE = { input: 0.1, output: 0.4 };

/** Waits until the ledger holds `count` rows (LEDGER_FLUSH_MS is short), and returns them in the order made. */
async function ledgerRows(dataDir: string, count: number): Promise<LedgerRow[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
      try {
        const rows = db
          .prepare(
            'SELECT endpoint, model, status, error_type, input_tokens, output_tokens, reasoning_tokens, tokens_estimated, cost_usd FROM usage_records ORDER BY id',
          )
          .all() as unknown as LedgerRow[];
        if (rows.length >= count) return rows;
      } finally {
        db.close();
      }
    } catch {
      // not created yet
    }
    if (Date.now() > until) throw new Error(`the ledger did not reach ${count} rows`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function todaysSpend(dataDir: string): number {
  const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
  try {
    return (db.prepare('SELECT SUM(cost_usd) AS usd FROM usage_hourly').get() as { usd: number }).usd;
  } finally {
    db.close();
  }
}

/**
 * A Gemini 200 whose candidate has no parts (the model spent its output budget thinking, or stopped for OTHER), with
 * the usage the provider bills.
 */
const noPartsBody = (finishReason: string): Record<string, unknown> => ({
  candidates: [{ content: { role: 'model' }, finishReason, index: 0 }],
  usageMetadata: { promptTokenCount: 50, candidatesTokenCount: 3, thoughtsTokenCount: 200, totalTokenCount: 253 },
  modelVersion: 'gemini-2.5-flash-001',
});
const noParts = (finishReason: string): FakeReply => ({ type: 'raw', json: noPartsBody(finishReason) });

/**
 * A failed call's provider bill: what its failed attempts generated is in its ledger row, its cost metric and today's
 * spend (the budget's), not 0.
 */
describe('what failed calls cost (built service, Gemini API adapter, loopback Gemini server)', () => {
  let gemini: FakeGeminiServer;
  let stack: TelemetryStack;
  let dataDir: string;
  let rows = 0;

  beforeAll(async () => {
    gemini = await new FakeGeminiServer().start();
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-failed-cost-'));
    stack = await startWithTelemetry({
      DD_TRACE_ENABLED: 'false',
      DATA_DIR: dataDir,
      LEDGER_FLUSH_MS: '50',
      STATSD_FLUSH_INTERVAL_MS: '20',
      LLM_PROVIDER: 'gemini',
      GEMINI_API_KEY: 'test-gemini-key-123',
      LLM_BASE_URL: gemini.url,
      LLM_MODEL: 'gemini-2.5-flash',
      LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite',
      LLM_MAX_RETRIES: '2',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '50',
      LLM_TIMEOUT_MS: '800',
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await gemini?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  afterEach(() => {
    gemini.reset();
  });

  it('counts the provider-reported usage of 6 empty answers (MAX_TOKENS, OTHER) in the failed call’s row', async () => {
    gemini.setDefault((request) => noParts(request.model === 'gemini-2.5-flash' ? 'MAX_TOKENS' : 'OTHER'));
    const before = todaysSpendOrZero(dataDir);
    const res = await post(`${stack.service.url}/qa`, { question: 'What is the capital of France?' });
    expect(res.status).toBe(502);
    expect(gemini.requests).toHaveLength(6);

    const row = (await ledgerRows(dataDir, ++rows)).at(-1)!;
    expect(row).toMatchObject({
      status: 'error',
      error_type: 'empty_response',
      input_tokens: 6 * 50,
      output_tokens: 6 * 3,
      reasoning_tokens: 6 * 200,
      tokens_estimated: 0,
    });
    const perAttempt = (rates: { input: number; output: number }): number =>
      (50 * rates.input + (3 + 200) * rates.output) / 1e6;
    const cost = 3 * perAttempt(FLASH) + 3 * perAttempt(LITE);
    expect(row.cost_usd).toBeCloseTo(cost, 12);
    // Today's spend (what the daily budget reads) counts it.
    expect(todaysSpend(dataDir) - before).toBeCloseTo(cost, 12);

    const line = await stack.service.waitForLog((l) => l.message === 'llm call failed' && l.endpoint === 'qa');
    expect(line).toMatchObject({ input_tokens: 300, reasoning_tokens: 1200, tokens_estimated: false });
    expect(line.cost_usd as number).toBeCloseTo(cost, 12);
    await stack.statsd.waitFor((ls) =>
      ls.some((l) => l.name === 'llm.cost.usd' && l.tags.includes('status:error') && l.tags.includes('endpoint:qa')),
    );
    const metered = stack.statsd
      .named('llm.cost.usd')
      .filter((l) => l.tags.includes('status:error') && l.tags.includes('endpoint:qa'))
      .reduce((sum, l) => sum + l.value, 0);
    expect(metered).toBeCloseTo(cost, 9);
    // Each model's failed attempts are counted under that model: per-model cost is what each model was billed.
    const meteredFor = (model: string): number =>
      stack.statsd
        .named('llm.cost.usd')
        .filter((l) => l.tags.includes('status:error') && l.tags.includes('endpoint:qa'))
        .filter((l) => l.tags.includes(`model:${model}`))
        .reduce((sum, l) => sum + l.value, 0);
    expect(meteredFor('gemini-2.5-flash')).toBeCloseTo(3 * perAttempt(FLASH), 9);
    expect(meteredFor('gemini-2.5-flash-lite')).toBeCloseTo(3 * perAttempt(LITE), 9);
  }, 60_000);

  it('counts the usage of empty streamed answers (MAX_TOKENS, no parts) the same way', async () => {
    gemini.setDefault({ type: 'raw', sse: [noPartsBody('MAX_TOKENS')] });
    const res = await post(
      `${stack.service.url}/reason`,
      { prompt: 'Why is the sky blue?' },
      { accept: 'text/event-stream' },
    );
    expect(res.status).toBe(502);
    expect(gemini.requests).toHaveLength(6);
    const row = (await ledgerRows(dataDir, ++rows)).at(-1)!;
    expect(row).toMatchObject({
      endpoint: 'reason',
      status: 'error',
      error_type: 'empty_response',
      input_tokens: 300,
      reasoning_tokens: 1200,
      tokens_estimated: 0,
    });
    expect(row.cost_usd).toBeGreaterThan(0);
  }, 60_000);

  it('counts an empty answer’s usage before a successful retry in the row, not in the response’s usage', async () => {
    gemini.enqueue(noParts('MAX_TOKENS'), {
      type: 'answer',
      text: 'Paris.',
      usage: { prompt: 50, output: 4 },
    });
    const res = await post(`${stack.service.url}/qa`, { question: 'What is the capital of France?' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { metadata: Record<string, unknown> };
    expect(body.metadata).toMatchObject({ input_tokens: 50, output_tokens: 4, retry_count: 1 });
    const answerCost = (50 * FLASH.input + 4 * FLASH.output) / 1e6;
    expect(body.metadata.cost_usd as number).toBeCloseTo(answerCost, 12);

    const row = (await ledgerRows(dataDir, ++rows)).at(-1)!;
    expect(row).toMatchObject({ status: 'ok', input_tokens: 100, output_tokens: 7, reasoning_tokens: 200 });
    expect(row.cost_usd).toBeCloseTo(answerCost + (50 * FLASH.input + 203 * FLASH.output) / 1e6, 12);
  }, 60_000);

  it('counts a fallback’s answer under its model and the failed attempts before it under theirs', async () => {
    gemini.setDefault((request) =>
      request.model === 'gemini-2.5-flash'
        ? noParts('MAX_TOKENS')
        : { type: 'answer', text: 'Light scatters off air molecules.', usage: { prompt: 40, output: 6 } },
    );
    const res = await post(`${stack.service.url}/stress`, { prompt: 'Why is the sky blue?' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { metadata: Record<string, unknown> };
    expect(body.metadata).toMatchObject({ model: 'gemini-2.5-flash-lite', fallback_used: true });
    expect(gemini.requests).toHaveLength(4);

    const failedCost = 3 * ((50 * FLASH.input + 203 * FLASH.output) / 1e6);
    const answerCost = (40 * LITE.input + 6 * LITE.output) / 1e6;
    const row = (await ledgerRows(dataDir, ++rows)).at(-1)!;
    expect(row.cost_usd).toBeCloseTo(failedCost + answerCost, 12);
    const okCost = (model: string): number =>
      stack.statsd
        .named('llm.cost.usd')
        .filter((l) => l.tags.includes('endpoint:stress') && l.tags.includes('status:ok'))
        .filter((l) => l.tags.includes(`model:${model}`))
        .reduce((sum, l) => sum + l.value, 0);
    await stack.statsd.waitFor(() => okCost('gemini-2.5-flash') > 0 && okCost('gemini-2.5-flash-lite') > 0);
    expect(okCost('gemini-2.5-flash')).toBeCloseTo(failedCost, 9);
    expect(okCost('gemini-2.5-flash-lite')).toBeCloseTo(answerCost, 9);
    const okTokens = (model: string): number =>
      stack.statsd
        .named('llm.tokens.reasoning')
        .filter((l) => l.tags.includes('endpoint:stress') && l.tags.includes(`model:${model}`))
        .reduce((sum, l) => sum + l.value, 0);
    expect(okTokens('gemini-2.5-flash')).toBe(3 * 200);
    expect(okTokens('gemini-2.5-flash-lite')).toBe(0);
  }, 60_000);

  it.each([
    ['stalls after 3 chunks until LLM_TIMEOUT_MS', { immediateChunks: 3, chunkDelayMs: 3_000 }, 'timeout'],
    ['sends an error after 3 chunks', undefined, 'server'],
  ] as const)(
    'counts the streamed text’s estimated tokens and cost when a stream %s',
    async (_, stall, errorType) => {
      const text = 'Leaves change colour in autumn because chlorophyll breaks down and other pigments show through.';
      const chunks = ['Leaves change colour ', 'in autumn because chlorophyll ', 'breaks down and'];
      gemini.enqueue(
        stall
          ? { type: 'answer', text, chunks: [...chunks, ' other pigments show through.'], ...stall }
          : { type: 'stream_error', text: chunks.join(''), status: 500 },
      );
      const res = await post(
        `${stack.service.url}/reason`,
        { prompt: 'Why do leaves change colour in autumn?' },
        { accept: 'text/event-stream' },
      );
      expect(res.status).toBe(200);
      const sse = await res.text();
      expect(sse).toContain('event: error');
      expect(gemini.requests).toHaveLength(1);

      const row = (await ledgerRows(dataDir, ++rows)).at(-1)!;
      expect(row).toMatchObject({ status: 'error', error_type: errorType, tokens_estimated: 1, reasoning_tokens: 0 });
      expect(row.input_tokens).toBeGreaterThan(0);
      expect(row.output_tokens).toBeGreaterThan(5);
      expect(row.cost_usd).toBeCloseTo((row.input_tokens * FLASH.input + row.output_tokens * FLASH.output) / 1e6, 12);
    },
    60_000,
  );
});

describe('what failed calls cost (built service, OpenAI-compatible adapter, loopback OpenAI server)', () => {
  let openai: FakeOpenAiServer;
  let stack: TelemetryStack;
  let dataDir: string;

  beforeAll(async () => {
    openai = await new FakeOpenAiServer().start();
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-failed-cost-openai-'));
    stack = await startWithTelemetry({
      DD_TRACE_ENABLED: 'false',
      DATA_DIR: dataDir,
      LEDGER_FLUSH_MS: '50',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test-openai-key-123',
      OPENAI_BASE_URL: openai.url,
      LLM_MODEL: 'gpt-4o-mini',
      LLM_MAX_RETRIES: '2',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '50',
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await openai?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts the usage of empty answers (content null, with usage) in the failed call’s row', async () => {
    openai.setDefault({
      type: 'raw',
      json: {
        id: 'chatcmpl-empty',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'length' }],
        usage: { prompt_tokens: 40, completion_tokens: 64, total_tokens: 104 },
      },
    });
    const res = await post(`${stack.service.url}/qa`, { question: 'What is the capital of France?' });
    expect(res.status).toBe(502);
    const attempts = openai.requests.length;
    expect(attempts).toBe(3);
    const row = (await ledgerRows(dataDir, 1)).at(-1)!;
    expect(row).toMatchObject({
      status: 'error',
      error_type: 'empty_response',
      input_tokens: 3 * 40,
      output_tokens: 3 * 64,
      tokens_estimated: 0,
    });
    expect(row.cost_usd).toBeGreaterThan(0);
  }, 60_000);
});

function todaysSpendOrZero(dataDir: string): number {
  try {
    return todaysSpend(dataDir) ?? 0;
  } catch {
    return 0;
  }
}
