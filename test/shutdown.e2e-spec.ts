import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../apps/control-plane/src/create-app';
import { testConfig } from './support/app-config';
import { post, startWithTelemetry } from './support/http';

/**
 * A clean stop (SIGTERM: every deploy) must not lose what the service already accepted: the last calls' log
 * lines (asynchronous buffer), their traces (dd-trace flushes every 2 s) and LLM Observability events (every
 * 1 s) leave before the process exits, with the conventional exit code 128 + 15.
 */
describe('shutdown: SIGTERM right after a call', () => {
  it('writes the buffered log line and sends the trace and the LLM Observability event before exiting', async () => {
    // LLMOBS_KEEP=all: the ordinary call's LLM Observability event is sent (by default it may not be).
    const stack = await startWithTelemetry({ DD_ENV: 'e2e-stop', LLMOBS_KEEP: 'all' });
    try {
      const prompt = `the last call before a deploy ${Date.now()}`;
      const response = await post(`${stack.service.url}/reason`, { prompt });
      expect(response.status).toBe(200);
      const promptId = ((await response.json()) as { metadata: { prompt_id: string } }).metadata.prompt_id;

      // Stopped at once: the line is still in the 8 KB / 250 ms buffer, the span and the event in dd-trace's.
      expect(await stack.service.stop()).toBe(143);

      const line = stack.service.logs().find((l) => l.message === 'llm call completed');
      expect(line).toMatchObject({ prompt_id: promptId, endpoint: 'reason' });
      const span = stack.agent.spans.find((s) => s.resource === 'POST /reason');
      expect(span?.meta['http.status_code']).toBe('200');
      const llmobs = stack.agent.payloads.filter((p) => p.path.endsWith('/api/v2/llmobs'));
      expect(llmobs.some((p) => p.body.toString('utf8').includes(prompt))).toBe(true);
      const evaluations = stack.agent.payloads.filter((p) => p.path.endsWith('/eval-metric'));
      expect(evaluations.some((p) => p.body.toString('utf8').includes('quality_score'))).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});

describe('shutdown: an app closed without a signal (tests, tools)', () => {
  it('leaves no signal listener behind', async () => {
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
    const before = signals.map((s) => process.listenerCount(s));
    const dataDir = mkdtempSync(join(tmpdir(), 'lrcp-close-'));
    try {
      const app = await createApp(testConfig({ DATA_DIR: dataDir, MODELS_DIR: join(__dirname, '..', 'models') }), {
        quiet: true,
      });
      await app.init();
      expect(signals.map((s) => process.listenerCount(s))).not.toEqual(before);
      await app.close();
      expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
