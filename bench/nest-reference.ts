/**
 * Two calibration points of the overhead benchmark, to read the reference ratios on this machine:
 *
 * - `nest-min`: NestJS 12 + Fastify, one controller with a DTO validated by class-validator (global
 *   ValidationPipe), forwarding `POST /reason` to the mock upstream through an undici Pool. No telemetry.
 *   The issue measured this at about 1.4x the bare proxy's CPU per request.
 * - `nest-naive` (`--naive`): the same with telemetry done the naive way the issue describes: dd-trace with
 *   its default integrations (loaded with `--import dd-trace/initialize.mjs` by the benchmark) plus a custom
 *   span per request, 10 unbuffered DogStatsD sends per request (hot-shots, maxBufferSize 0) and one pino
 *   line per request. The issue measured this at 6.4-7x the bare proxy.
 *
 * Neither is the product: they only say what the framework and naive telemetry cost here. Written with
 * decorator calls instead of decorator syntax so that Node runs this file as it is (type stripping).
 *
 * Usage: `node [--import dd-trace/initialize.mjs] bench/nest-reference.ts --upstream http://127.0.0.1:PORT
 * [--port N] [--naive] [--statsd-port N]`. Prints `{"port":N}` once listening; stops on SIGTERM/SIGINT.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Get, HttpCode, Module, Post, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsString, Length } from 'class-validator';
import { StatsD } from 'hot-shots';
import pino from 'pino';
import { Pool } from 'undici';

const MODEL = 'gemini-2.5-flash';

function arg(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
}

const upstream = arg('--upstream');
if (upstream === undefined) throw new Error('nest-reference: --upstream http://127.0.0.1:PORT is required');
const naive = process.argv.includes('--naive');
const pool = new Pool(new URL(upstream).origin, { connections: 64, keepAliveTimeout: 30_000 });

interface Completion {
  model?: string;
  choices?: { message?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

interface NaiveTelemetry {
  statsd: StatsD;
  logger: pino.Logger;
  trace<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

async function naiveTelemetry(): Promise<NaiveTelemetry> {
  const statsd = new StatsD({
    host: '127.0.0.1',
    port: Number(arg('--statsd-port') ?? 8125),
    maxBufferSize: 0,
    errorHandler: () => undefined,
  });
  const logger = pino({ base: { service: 'nest-naive' } });
  // dd-trace was initialised by --import dd-trace/initialize.mjs (default integrations); take the same instance.
  const tracer = (await import('dd-trace')).default;
  return {
    statsd,
    logger,
    trace: (name, fn) => tracer.trace(name, { resource: name }, fn),
  };
}

let telemetry: NaiveTelemetry | undefined;

class ReasonDto {
  prompt!: string;
}
IsString()(ReasonDto.prototype, 'prompt');
Length(1, 5000)(ReasonDto.prototype, 'prompt');

async function forward(prompt: string): Promise<unknown> {
  const started = performance.now();
  const response = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: prompt }], max_tokens: 2048 }),
  });
  const completion = (await response.body.json()) as Completion;
  const choice = completion.choices?.[0];
  return {
    answer: choice?.message?.content ?? '',
    metadata: {
      provider: 'openai',
      model: completion.model ?? MODEL,
      latency_ms: performance.now() - started,
      input_tokens: completion.usage?.prompt_tokens ?? null,
      output_tokens: completion.usage?.completion_tokens ?? null,
      total_tokens: completion.usage?.total_tokens ?? null,
      finish_reason: choice?.finish_reason ?? null,
    },
  };
}

class ReasonController {
  async reason(body: ReasonDto): Promise<unknown> {
    if (!telemetry) return forward(body.prompt);
    const started = performance.now();
    const result = (await telemetry.trace('llm.call', () => forward(body.prompt))) as {
      metadata: { input_tokens: number; output_tokens: number; total_tokens: number };
    };
    const tags = ['endpoint:reason', 'provider:openai', `model:${MODEL}`, 'status:ok'];
    const { statsd } = telemetry;
    const latency = performance.now() - started;
    statsd.distribution('llm.request.latency_ms', latency, tags);
    statsd.increment('llm.request.count', 1, tags);
    statsd.increment('llm.tokens.input', result.metadata.input_tokens, tags);
    statsd.increment('llm.tokens.output', result.metadata.output_tokens, tags);
    statsd.increment('llm.tokens.total', result.metadata.total_tokens, tags);
    statsd.increment('llm.cost.usd', 0.0001, tags);
    statsd.distribution('llm.request.cost_usd', 0.0001, tags);
    statsd.increment('http.requests', 1, tags);
    statsd.distribution('http.request.duration_ms', latency, tags);
    statsd.gauge('llm.circuit.state', 0, tags);
    telemetry.logger.info({ endpoint: 'reason', latency_ms: latency, prompt: body.prompt.slice(0, 200) }, 'llm call');
    return result;
  }

  health(): { status: string } {
    return { status: 'ok' };
  }
}
Controller()(ReasonController);
const proto = ReasonController.prototype;
const reasonDescriptor = Object.getOwnPropertyDescriptor(proto, 'reason')!;
Post('reason')(proto, 'reason', reasonDescriptor);
HttpCode(200)(proto, 'reason', reasonDescriptor);
Body()(proto, 'reason', 0);
Reflect.defineMetadata('design:paramtypes', [ReasonDto], proto, 'reason');
Get('health')(proto, 'health', Object.getOwnPropertyDescriptor(proto, 'health')!);

class ReferenceModule {}
Module({ controllers: [ReasonController] })(ReferenceModule);

async function main(): Promise<void> {
  telemetry = naive ? await naiveTelemetry() : undefined;
  const app = await NestFactory.create<NestFastifyApplication>(ReferenceModule, new FastifyAdapter(), {
    logger: false,
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  await app.listen(Number(arg('--port') ?? 0), '127.0.0.1');
  const address = app.getHttpServer().address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  const stop = (): void => {
    void app
      .close()
      .then(() => pool.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`nest-reference: ${String(error)}\n`);
  process.exit(1);
});
