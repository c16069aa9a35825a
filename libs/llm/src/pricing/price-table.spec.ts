import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BootError } from '@app/config';
import type { LlmUsage } from '../ports/llm-provider.port';
import { PriceTable, readPriceTable, shippedPriceTable } from './price-table';

const usage = (u: Partial<LlmUsage>): LlmUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  totalTokens: 0,
  cachedTokens: 0,
  reasoningTokens: 0,
  estimated: false,
  ...u,
});

describe('PriceTable', () => {
  const table = new PriceTable(shippedPriceTable());

  it('prices every model of the shipped table from its own rates (100k input + 100k output)', () => {
    for (const [model, price] of Object.entries(table.table.models)) {
      const cost = table.cost(model, usage({ inputTokens: 100_000, outputTokens: 100_000 }));
      expect(cost.costUsd).toBeCloseTo((price.input + price.output) / 10, 9);
      expect(cost.pricedAs).toBe(model);
    }
  });

  it('gives 2.5 Flash its own rate, not the origin’s flat $1.25/$5', () => {
    expect(table.cost('gemini-2.5-flash', usage({ inputTokens: 1000, outputTokens: 500 })).costUsd).toBeCloseTo(
      (1000 * 0.3 + 500 * 2.5) / 1e6,
      12,
    );
  });

  it('bills cached input at the cached rate and reasoning tokens at the output rate', () => {
    const cost = table.cost(
      'gemini-2.5-flash',
      usage({ inputTokens: 1000, cachedTokens: 400, outputTokens: 100, reasoningTokens: 300 }),
    );
    expect(cost.costUsd).toBeCloseTo((600 * 0.3 + 400 * 0.03 + 400 * 2.5) / 1e6, 12);
  });

  it('applies the long-context tier above its threshold', () => {
    const short = table.cost('gemini-2.5-pro', usage({ inputTokens: 200_000 }));
    const long = table.cost('gemini-2.5-pro', usage({ inputTokens: 200_001, outputTokens: 1000 }));
    expect(short.tier).toBe('standard');
    expect(short.costUsd).toBeCloseTo(0.25, 9);
    expect(long.tier).toBe('long_context');
    expect(long.costUsd).toBeCloseTo((200_001 * 2.5 + 1000 * 15) / 1e6, 9);
  });

  it('resolves aliases and resource names', () => {
    expect(table.cost('gemini-2.0-flash-001', usage({ inputTokens: 1_000_000 })).costUsd).toBeCloseTo(0.1, 9);
    expect(table.cost('models/gemini-2.5-flash', usage({ inputTokens: 1_000_000 })).pricedAs).toBe('gemini-2.5-flash');
  });

  it('gives an unknown model a null cost, never a made-up number', () => {
    expect(table.cost('llama3.1:8b', usage({ inputTokens: 1000, outputTokens: 1000 }))).toEqual({
      costUsd: null,
      pricedAs: null,
      tier: null,
    });
  });

  it('reads an override file and refuses a malformed one naming the model', () => {
    const path = join(tmpdir(), `prices-${process.pid}.json`);
    writeFileSync(
      path,
      JSON.stringify({
        as_of: '2026-01-01',
        currency: 'USD',
        unit_tokens: 1_000_000,
        models: { 'llama3.1:8b': { input: 0, output: 0, cached_input: null } },
      }),
    );
    expect(new PriceTable(readPriceTable(path)).cost('llama3.1:8b', usage({ inputTokens: 5 })).costUsd).toBe(0);
    writeFileSync(
      path,
      JSON.stringify({ as_of: '2026-01-01', unit_tokens: 1_000_000, models: { bad: { input: 'x' } } }),
    );
    expect(() => readPriceTable(path)).toThrow(/model "bad"/);
  });

  it('refuses a file that is not a price table with a BootError naming LLM_PRICE_TABLE_PATH', () => {
    const path = join(tmpdir(), `prices-bad-${process.pid}.json`);
    const failure = (): BootError => {
      try {
        readPriceTable(path);
      } catch (error) {
        if (error instanceof BootError) return error;
        throw error;
      }
      throw new Error('accepted');
    };
    writeFileSync(path, JSON.stringify({ as_of: '2026-01-01', unit_tokens: 1, models: { bad: { input: 'x' } } }));
    expect(failure().message).toBe(
      `LLM_PRICE_TABLE_PATH: "${path}" is not a price table: model "bad" needs numeric input/output/cached_input rates`,
    );
    writeFileSync(path, 'null');
    expect(failure().message).toBe(
      `LLM_PRICE_TABLE_PATH: "${path}" is not a price table: needs "as_of", "unit_tokens" and "models"`,
    );
    // Before, these were taken: every cost Infinity (unit_tokens 0), or euros read as dollars.
    const table = {
      as_of: '2026-01-01',
      unit_tokens: 1_000_000,
      models: { m: { input: 1, output: 2, cached_input: null } },
    };
    writeFileSync(path, JSON.stringify({ ...table, unit_tokens: 0 }));
    expect(failure().message).toBe(
      `LLM_PRICE_TABLE_PATH: "${path}" is not a price table: "unit_tokens" must be a positive number of tokens (got 0), e.g. 1000000 for rates per 1M`,
    );
    writeFileSync(path, JSON.stringify({ ...table, unit_tokens: -1000 }));
    expect(failure().message).toMatch(/"unit_tokens" must be a positive number of tokens \(got -1000\)/);
    writeFileSync(path, JSON.stringify({ ...table, currency: 'EUR' }));
    expect(failure().message).toBe(
      `LLM_PRICE_TABLE_PATH: "${path}" is not a price table: "currency" must be "USD" (got "EUR"): costs and budgets are in US dollars`,
    );
    writeFileSync(path, JSON.stringify({ ...table, aliases: { 'm-001': 'n' } }));
    expect(failure().message).toMatch(/alias "m-001" names "n", which is not a model of the table$/);
    writeFileSync(path, JSON.stringify({ ...table, currency: 'USD', aliases: { 'm-001': 'm' } }));
    expect(new PriceTable(readPriceTable(path)).cost('m-001', usage({ inputTokens: 1_000_000 })).costUsd).toBe(1);
    writeFileSync(path, '{"as_of":');
    expect(failure().message).toMatch(/^LLM_PRICE_TABLE_PATH: ".*" cannot be read as JSON \(/);
    expect(failure().variable).toBe('LLM_PRICE_TABLE_PATH');
  });
});
