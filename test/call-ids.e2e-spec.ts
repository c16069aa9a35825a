import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { post, startWithTelemetry, type TelemetryStack } from './support/http';
import { ServiceProcess } from './support/service-process';
import { waitFor } from './support/llm-adapter-helpers';

/**
 * The one rule for naming a call (docs/openai-compat.md, docs/errors.md): a call that reached the pipeline is named by
 * its prompt id, the `prompt_id` of its ledger row, whether it answered or failed, tracing on or off. /v1 sends it as
 * `x-request-id` (the SDK's `requestID`) and `x-control-plane-prompt-id`; the problem+json routes as `promptId` on a
 * failure, as `metadata.prompt_id` on an answer. A request refused before any call has no prompt id: on /v1 its
 * `x-request-id` is the trace id (tracing on).
 */

interface LedgerRow {
  status: string;
  endpoint: string;
  trace_id: string | null;
}

describe.each([
  ['off', false],
  ['on', true],
] as const)('the id of a call, answered or failed, with tracing %s', (_label, tracing) => {
  let upstream: FakeOpenAiServer;
  let stack: TelemetryStack | undefined;
  let service: ServiceProcess;
  let dataDir: string;
  let sdk: OpenAI;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-call-ids-'));
    upstream = await new FakeOpenAiServer().start();
    const env = {
      DATA_DIR: dataDir,
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'gpt-4o-mini',
      LLM_MAX_RETRIES: '0',
      LEDGER_FLUSH_MS: '50',
      ML_REMOTE_EMBEDDINGS: 'false',
    };
    if (tracing) {
      stack = await startWithTelemetry(env);
      service = stack.service;
    } else service = await new ServiceProcess({ ...env, DD_TRACE_ENABLED: 'false' }).start();
    sdk = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-app-key-never-logged', maxRetries: 0 });
  });

  afterAll(async () => {
    if (stack) await stack.stop();
    else await service?.stop();
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  beforeEach(() => upstream.reset());

  /** The ledger row of a prompt id, once it is written (the ledger flushes every 50 ms). */
  async function ledgerRow(promptId: string): Promise<LedgerRow> {
    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
    try {
      const query = db.prepare('SELECT status, endpoint, trace_id FROM usage_records WHERE prompt_id = ?');
      let row: LedgerRow | undefined;
      await waitFor(() => (row = query.get(promptId) as LedgerRow | undefined) !== undefined, 20_000);
      return row!;
    } finally {
      db.close();
    }
  }

  async function apiError(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
    try {
      await call;
    } catch (error) {
      if (error instanceof OpenAI.APIError) return error;
      throw error;
    }
    throw new Error('the call did not fail');
  }

  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it('names a /v1 call by its prompt id, answered or failed (JSON and streamed), and the ledger has it', async () => {
    const { response } = await sdk.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    const answered = response.headers.get('x-request-id');
    expect(answered).toMatch(UUID);
    expect(response.headers.get('x-control-plane-prompt-id')).toBe(answered);

    // Our key refused upstream (401): a 502 to the caller, recorded as an error.
    upstream.setDefault({ type: 'error', status: 401 });
    const failures = [
      await apiError(
        sdk.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
      ),
      await apiError(
        sdk.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Hi' }],
          stream: true,
        }),
      ),
    ];
    for (const failure of failures) {
      expect(failure.status).toBe(502);
      expect(failure.requestID).toMatch(UUID);
      expect(failure.headers?.get('x-control-plane-prompt-id')).toBe(failure.requestID);
    }

    const rows = [await ledgerRow(answered!), ...(await Promise.all(failures.map((f) => ledgerRow(f.requestID!))))];
    expect(rows.map((row) => [row.endpoint, row.status])).toEqual([
      ['chat', 'ok'],
      ['chat', 'error'],
      ['chat', 'error'],
    ]);
    // With tracing on, the row holds the trace: the one place a caller goes from its id to the trace.
    for (const row of rows) expect(row.trace_id === null).toBe(!tracing);
  });

  it('names a failed /qa call by promptId in its problem, as an answer by metadata.prompt_id', async () => {
    upstream.setDefault({ type: 'error', status: 401 });
    const response = await post(`${service.url}/qa`, { question: 'What is two plus two?' });
    expect(response.status).toBe(502);
    const problem = (await response.json()) as { code: string; promptId?: string; traceId?: string };
    expect(problem.code).toBe('UPSTREAM_ERROR');
    expect(problem.promptId).toMatch(UUID);
    expect(problem.traceId === undefined).toBe(!tracing);
    const row = await ledgerRow(problem.promptId!);
    expect(row).toMatchObject({ endpoint: 'qa', status: 'error' });
    if (tracing) expect(row.trace_id).toBe(problem.traceId);
  });

  it('names a /v1 request refused before any call by its trace id (tracing on), never by a prompt id', async () => {
    const refused = await apiError(
      sdk.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }] }),
    );
    expect(refused.status).toBe(404);
    expect(refused.headers?.get('x-control-plane-prompt-id')).toBeNull();
    if (tracing) expect(refused.requestID).toMatch(/^[0-9a-f]{32}$/);
    else expect(refused.requestID).toBeFalsy();
    expect(upstream.requests).toHaveLength(0);
  });
});
