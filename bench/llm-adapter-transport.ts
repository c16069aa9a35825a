/**
 * Client-side CPU per LLM call of the real adapters' HTTP transport, against an instant upstream running in a
 * separate process (so its CPU is not counted). Compares @google/genai on its default transport (global
 * fetch), @google/genai with undici's own fetch + Agent, the GoogleGenAiLlmAdapter (undici `request()` behind
 * `httpOptions.fetch`), and the OpenAiCompatibleLlmAdapter (undici Pool). Variants are interleaved in short
 * slices so machine drift hits them alike; medians over rounds are printed as a Markdown table.
 *
 *   sh scripts/ts-run.sh bench/llm-adapter-transport.ts [rounds=7] [callsPerSlice=1500] [concurrency=10]
 */
import { GoogleGenAI } from '@google/genai';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { Agent, fetch as undiciFetch } from 'undici';
import { GoogleGenAiLlmAdapter } from '../libs/llm/src/adapters/google-genai-llm.adapter';
import { OpenAiCompatibleLlmAdapter } from '../libs/llm/src/adapters/openai-compatible-llm.adapter';
import type { LlmGenerateRequest } from '../libs/llm/src/ports/llm-provider.port';
import { testConfig } from '../test/support/app-config';

const [rounds = 7, perSlice = 1500, concurrency = 10] = process.argv.slice(2).map(Number);

const UPSTREAM = `
const http = require('node:http');
const gemini = JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'Four.' }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 2, totalTokenCount: 14 }, modelVersion: 'gemini-2.5-flash' });
const openai = JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'llama3.2:3b',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Four.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 } });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = req.url.startsWith('/v1/chat') ? openai : gemini;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startUpstream(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
  );
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const upstream = await startUpstream();
  const request = (model: string): LlmGenerateRequest => ({
    model,
    prompt: 'What is two plus two?',
    temperature: 0.2,
    maxOutputTokens: 64,
    signal: AbortSignal.timeout(10_000),
    timeoutMs: 10_000,
  });
  const geminiConfig = testConfig({
    LLM_PROVIDER: 'gemini',
    GEMINI_API_KEY: 'bench-key-123',
    LLM_BASE_URL: upstream.url,
  });
  const openaiConfig = testConfig({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: upstream.url });
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const sdkDefault = new GoogleGenAI({
    vertexai: false,
    apiKey: 'bench-key-123',
    httpOptions: { baseUrl: upstream.url },
  });
  const sdkUndiciFetch = new GoogleGenAI({
    vertexai: false,
    apiKey: 'bench-key-123',
    httpOptions: {
      baseUrl: upstream.url,
      fetch: ((input: string, init: RequestInit) =>
        undiciFetch(input, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch,
    },
  });
  const geminiAdapter = new GoogleGenAiLlmAdapter(geminiConfig, 'gemini');
  const openaiAdapter = new OpenAiCompatibleLlmAdapter(openaiConfig);
  const sdkCall = (client: GoogleGenAI) => async (): Promise<void> => {
    await client.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'What is two plus two?',
      config: { abortSignal: AbortSignal.timeout(10_000), temperature: 0.2, maxOutputTokens: 64 },
    });
  };
  const variants: Record<string, () => Promise<unknown>> = {
    '@google/genai, default transport (global fetch)': sdkCall(sdkDefault),
    '@google/genai + undici.fetch(Agent)': sdkCall(sdkUndiciFetch),
    'GoogleGenAiLlmAdapter (undici request behind httpOptions.fetch)': () =>
      geminiAdapter.generate(request('gemini-2.5-flash')),
    'OpenAiCompatibleLlmAdapter (undici Pool)': () => openaiAdapter.generate(request('llama3.2:3b')),
  };

  const slice = async (call: () => Promise<unknown>): Promise<{ cpuMs: number; rps: number }> => {
    let remaining = perSlice;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (remaining-- > 0) await call();
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    return { cpuMs: (cpu.user + cpu.system) / 1000 / perSlice, rps: perSlice / (wall / 1000) };
  };

  for (const call of Object.values(variants)) await slice(call); // warm-up
  const samples: Record<string, { cpuMs: number[]; rps: number[] }> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, call] of Object.entries(variants)) {
      const { cpuMs, rps } = await slice(call);
      (samples[name] ??= { cpuMs: [], rps: [] }).cpuMs.push(cpuMs);
      samples[name].rps.push(rps);
    }
  }

  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\n### LLM adapter transport, client CPU per call (${new Date().toISOString().slice(0, 10)}, ${cpuModel}, ` +
      `${os.availableParallelism()} cores, Node ${process.version})\n`,
  );
  console.log(
    `Command: \`sh scripts/ts-run.sh bench/llm-adapter-transport.ts ${rounds} ${perSlice} ${concurrency}\` — instant ` +
      `upstream in a child process, ${concurrency} concurrent calls, medians of ${rounds} interleaved rounds of ` +
      `${perSlice} calls.\n`,
  );
  console.log('| variant | client CPU ms/call | calls/s |');
  console.log('|---|---:|---:|');
  for (const [name, s] of Object.entries(samples)) {
    console.log(`| ${name} | ${median(s.cpuMs).toFixed(3)} | ${Math.round(median(s.rps))} |`);
  }
  await geminiAdapter.close();
  await openaiAdapter.close();
  await agent.close();
  upstream.stop();
}

void main();
