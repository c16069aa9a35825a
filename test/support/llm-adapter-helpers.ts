import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProviderError,
  type LlmStreamEvent,
} from '../../libs/llm/src/ports/llm-provider.port';

/** A generate request for adapter tests, with a 5 s timeout signal. */
export function llmRequest(model: string, overrides: Partial<LlmGenerateRequest> = {}): LlmGenerateRequest {
  return {
    model,
    prompt: 'What is two plus two?',
    systemInstruction: 'Answer briefly.',
    temperature: 0.2,
    maxOutputTokens: 256,
    signal: AbortSignal.timeout(5_000),
    timeoutMs: 5_000,
    ...overrides,
  };
}

/** Reads a provider stream: its deltas, and its one `done` result (fails on a second or a missing one). */
export async function collectStream(
  events: AsyncIterable<LlmStreamEvent>,
): Promise<{ deltas: string[]; result: LlmGenerateResult }> {
  const deltas: string[] = [];
  let result: LlmGenerateResult | undefined;
  for await (const event of events) {
    if (event.type === 'delta') deltas.push(event.text);
    else {
      if (result !== undefined) throw new Error('the stream sent a second done event');
      result = event.result;
    }
  }
  if (result === undefined) throw new Error('the stream ended without a done event');
  return { deltas, result };
}

/** The LlmProviderError a call rejects with (anything else is rethrown; success fails the test). */
export async function providerFailure(promise: Promise<unknown>): Promise<LlmProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LlmProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** A port on 127.0.0.1 with nothing listening. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
