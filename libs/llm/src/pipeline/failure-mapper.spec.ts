import {
  answered,
  buildLlmPipeline as build,
  input,
  named,
  settled,
} from '../../../../test/support/llm-pipeline-harness';
import { ScriptedProvider } from '../../../../test/support/scripted-provider';
import type { ChatCallOptions, LlmCallInput } from '../llm-call.types';
import { LlmCallFailedError } from '../llm.errors';

describe('FailureMapper: the 400/502/503 of a failed call, redaction, empty answers', () => {
  it('does not retry a non-retryable failure and answers 502 with context', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { fail: 'auth', status: 403 });
    const { service, metrics } = await build({ LLM_MAX_RETRIES: '3' }, provider);
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error).toBeInstanceOf(LlmCallFailedError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.context).toMatchObject({
      attempts: 1,
      lastUpstreamStatus: 403,
      lastErrorKind: 'auth',
      model: 'gemini-2.5-flash',
    });
    expect(provider.calls).toHaveLength(1);
    expect(named(metrics, 'llm.error.count')[0]!.tags).toContain('error_type:auth');
  });

  it('says the adapter could not send a request it refused before sending (no status), never that the provider answered', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', {
      fail: 'bad_request',
      message: 'openai gemini-2.5-flash: the messages hold no content to send',
      param: 'messages',
    });
    const { service } = await build({}, provider);
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error).toMatchObject({ status: 400, code: 'PROVIDER_REJECTED_REQUEST' });
    expect(error.detail).toBe(
      'The provider refused the request as invalid (messages). openai gemini-2.5-flash cannot take it: the messages hold no content to send',
    );
  });

  it("answers the provider's refusal of the request itself with 400 naming why, recorded as rejected, not as an error", async () => {
    const message =
      "openai gemini-2.5-flash: upstream answered HTTP 400: This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens.";
    const provider = new ScriptedProvider().script('gemini-2.5-flash', {
      fail: 'bad_request',
      status: 400,
      message,
      providerCode: 'context_length_exceeded',
      param: 'messages',
    });
    const { service, metrics, ledger, ledgerStore } = await build({ LLM_MAX_RETRIES: '3' }, provider);
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error).toBeInstanceOf(LlmCallFailedError);
    expect(error).toMatchObject({ status: 400, code: 'PROVIDER_REJECTED_REQUEST' });
    expect(error.detail).toMatch(
      /^The prompt is longer than the model accepts.*answered HTTP 400: This model's maximum/,
    );
    expect(error.extensions).toMatchObject({
      errorType: 'bad_request',
      providerCode: 'context_length_exceeded',
      param: 'messages',
      lastUpstreamStatus: 400,
    });
    expect(provider.calls).toHaveLength(1);
    // A request (status:rejected), not an error: neither the error-rate monitor nor the availability SLO counts it.
    expect(named(metrics, 'llm.error.count')).toHaveLength(0);
    expect(named(metrics, 'llm.failure_to_answer.count')).toHaveLength(0);
    expect(named(metrics, 'llm.request.count')[0]!.tags).toEqual(
      expect.arrayContaining(['status:rejected', 'error_type:bad_request']),
    );
    await ledger.flush();
    const [row] = await ledgerStore.records(0, Date.now() + 60_000, 10);
    expect(row).toMatchObject({ status: 'rejected', errorType: 'bad_request' });
  });

  it('does not retry an exhausted quota, nor hold the model as rate-limited: 502 quota_exhausted at once', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', {
      fail: 'quota_exhausted',
      status: 429,
      providerCode: 'insufficient_quota',
    });
    const { service, breakers } = await build({ LLM_MAX_RETRIES: '3' }, provider);
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR' });
    expect(error.context).toMatchObject({ attempts: 1, lastErrorKind: 'quota_exhausted', retryAfterSeconds: null });
    expect(provider.calls).toHaveLength(1);
    expect(breakers.states()['gemini-2.5-flash']).toBe('closed');
    // The next call goes straight to the provider: no rate-limit hold kept it waiting.
    provider.script('gemini-2.5-flash', { ok: 'back' });
    expect((await service.complete(input())).answer).toBe('back');
  });

  it('says on readiness that the provider refuses our credentials or quota, until a call succeeds again', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { fail: 'auth', status: 401, message: 'openai gemini-2.5-flash: upstream answered HTTP 401: Incorrect API key' },
      { fail: 'quota_exhausted', status: 429, message: 'openai gemini-2.5-flash: upstream answered HTTP 429: quota' },
      { ok: 'fixed' },
    );
    const { service, readiness } = await build({}, provider);
    expect((await readiness.run()).llmProvider!.status).toBe('ok');
    await service.complete(input()).catch(() => undefined);
    const refused = (await readiness.run()).llmProvider!;
    expect(refused.status).toBe('degraded');
    expect(refused.detail).toMatch(
      /refuses our credentials \(HTTP 401, .*\); check OPENAI_API_KEY: .*Incorrect API key/,
    );
    await service.complete(input()).catch(() => undefined);
    expect((await readiness.run()).llmProvider!.detail).toMatch(/quota is exhausted \(HTTP 429, .*billing/);
    await service.complete(input());
    expect((await readiness.run()).llmProvider!.status).toBe('ok');
  });

  it('redacts what an upstream error echoes (a key, an e-mail) before the client, the span or the log sees it', async () => {
    const key = 'sk-proj-AbCdEf0123456789xyzXYZ';
    const provider = new ScriptedProvider().script('gemini-2.5-flash', {
      fail: 'auth',
      status: 401,
      message: `openai gemini-2.5-flash: upstream answered HTTP 401: Incorrect API key provided: ${key}. Ask ops@example.com`,
    });
    const { service, tracer } = await build({}, provider);
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.detail).toContain('upstream answered HTTP 401: Incorrect API key provided: [REDACTED');
    expect(tracer.spanErrors).toHaveLength(1);
    for (const text of [error.detail, error.message, ...tracer.spanErrors]) {
      expect(text).not.toContain('AbCdEf0123456789');
      expect(text).not.toContain('ops@example.com');
    }
  });

  it("answers 503 with the provider's Retry-After when it answered 503 with one, 502 without", async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { fail: 'server', status: 503, retryAfterMs: 30_000 },
      { fail: 'server', status: 503 },
    );
    const { service } = await build({ LLM_MAX_RETRIES: '0' }, provider);
    const unavailable = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(unavailable.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(unavailable.status).toBe(503);
    expect(unavailable.context).toMatchObject({ retryAfterSeconds: 30, lastUpstreamStatus: 503 });
    const failed = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(failed.code).toBe('UPSTREAM_ERROR');
    expect(failed.context.retryAfterSeconds).toBeNull();
  });

  it('never answers 200 with an empty answer: an empty one is a failed attempt, retried, then 502', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: '' }, { ok: 'Paris' });
    const { service, metrics } = await build({ LLM_MAX_RETRIES: '2' }, provider);
    const recovered = await answered(service.complete(input()));
    expect(recovered).toMatchObject({ answer: 'Paris', retryCount: 1, attempts: 2 });
    expect(named(metrics, 'llm.retry.count')[0]!.value).toBe(1);

    provider.script('gemini-2.5-flash', { ok: ' ' }, { ok: '' }, { ok: '\n' });
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.status).toBe(502);
    expect(error.context).toMatchObject({ attempts: 3, lastErrorKind: 'empty_response', lastUpstreamStatus: 200 });
    expect(error.detail).toContain('empty answer');
    await settled();
    expect(named(metrics, 'llm.error.count')[0]!.tags).toContain('error_type:empty_response');
  });

  it("answers 200 with no text when the caller's own stop sequence or max_tokens left nothing to say (chat)", async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { ok: '', finish: 'stop' },
      { ok: '', finish: 'length' },
      { ok: '', finish: 'stop' },
      { ok: '', finish: 'length' },
    );
    const { service } = await build({ LLM_MAX_RETRIES: '0' }, provider);
    const chat = (options: Partial<ChatCallOptions>): LlmCallInput => ({
      ...input(),
      endpoint: 'chat',
      chat: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Why is the sky blue?' }], ...options },
    });
    const stopped = await answered(service.complete(chat({ stopSequences: ['Regarding'] })));
    expect(stopped).toMatchObject({ answer: '', finishReason: 'stop', attempts: 1 });
    const capped = await answered(service.complete(chat({ maxOutputTokens: 1 })));
    expect(capped).toMatchObject({ answer: '', finishReason: 'length', attempts: 1 });

    // Without the caller's bound, the same empty answers are the provider's failure (LLM_MAX_OUTPUT_TOKENS ran out,
    // or nothing came back): 502.
    for (const options of [{}, { maxOutputTokens: undefined }]) {
      const error = (await service.complete(chat(options)).catch((e: unknown) => e)) as LlmCallFailedError;
      expect(error.context).toMatchObject({ lastErrorKind: 'empty_response' });
    }
    expect(provider.calls).toHaveLength(4);
  });

  it('counts each call of a function not offered that it drops, by why (llm.tool_calls.dropped.count, reason tag)', async () => {
    const weather = { id: 'call_1', name: 'get_weather', arguments: '{"city":"Rome"}' };
    const madeUp = { id: 'call_2', name: 'get_forecast', arguments: '{"city":"Rome"}' };
    const provider = new ScriptedProvider();
    provider.fallbackStep = { ok: 'Checking.', finish: 'tool_calls', toolCalls: [weather, madeUp] };
    const { service, metrics } = await build({}, provider);
    const tools = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    const chat = (options: Partial<ChatCallOptions>): LlmCallInput => ({
      ...input(),
      endpoint: 'chat',
      chat: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Weather?' }], ...options },
    });
    expect((await answered(service.complete(chat({ tools })))).toolCalls).toEqual([weather]);
    await answered(service.complete(chat({})));
    await answered(service.complete(chat({ tools, toolChoice: 'none' })));
    await answered(
      service.complete(chat({ tools: [...tools, { name: 'get_time' }], toolChoice: { name: 'get_time' } })),
    );
    // Before, nothing counted them: the app's missing call left no trace.
    expect(
      named(metrics, 'llm.tool_calls.dropped.count').map((m) => [m.value, m.tags.find((t) => t.startsWith('reason:'))]),
    ).toEqual([
      [1, 'reason:not_offered'],
      [2, 'reason:no_tools'],
      [2, 'reason:tool_choice_none'],
      [2, 'reason:not_chosen'],
    ]);
    expect(named(metrics, 'llm.tool_calls.dropped.count')[0]!.tags).toEqual(
      expect.arrayContaining(['endpoint:chat', 'model:gemini-2.5-flash']),
    );
  });

  it('keeps the first tool call of an answer under parallel_tool_calls false (Gemini has no such setting), JSON and streamed', async () => {
    const calls = [
      { id: 'call_1', name: 'get_weather', arguments: '{"city":"Rome"}' },
      { id: 'call_2', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ];
    const provider = new ScriptedProvider();
    provider.fallbackStep = { ok: '', finish: 'tool_calls', toolCalls: calls };
    const { service } = await build({}, provider);
    const tools = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    const chat = (options: Partial<ChatCallOptions>): LlmCallInput => ({
      ...input(),
      endpoint: 'chat',
      chat: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Weather?' }], tools, ...options },
    });
    const one = await answered(service.complete(chat({ parallelToolCalls: false })));
    expect(one).toMatchObject({ finishReason: 'tool_calls', toolCalls: [calls[0]] });
    const items = [];
    for await (const item of await service.stream(chat({ parallelToolCalls: false }))) items.push(item);
    expect(items.at(-1)).toMatchObject({ type: 'done', result: { toolCalls: [calls[0]] } });
    // Without it, every call the model made.
    expect((await answered(service.complete(chat({})))).toolCalls).toEqual(calls);
  });
});
