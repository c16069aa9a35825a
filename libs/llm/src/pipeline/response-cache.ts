import { createHash } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { heldBack, WarningThrottle } from '@app/common';
import { AppConfig, type RouteConstraints } from '@app/config';
import { ResponseCacheStore } from '@app/ledger';
import { type DependencyStatus, formatTags, MetricsPort, ReadinessRegistry, TAG } from '@app/telemetry';
import { LLM_METRICS as M } from '../instrumentation/llm-metrics';
import type { LlmCallResult } from '../llm-call.types';
import { LlmProvider } from '../ports/llm-provider.port';
import type { CallContext } from './call-state';
import {
  type CachedAnswer,
  type CacheHit,
  type CacheInfo,
  KEY_VERSION,
  normaliseText,
  parseCached,
} from './cached-answer';

export { type CachedAnswer, type CacheHit, type CacheInfo, normaliseText } from './cached-answer';

/** Answers longer than this (characters) are not cached. */
export const CACHE_MAX_ANSWER_CHARS = 32_000;

/** At most one warning a minute about a failing cache. */
const WARN_EVERY_MS = 60_000;
/** Expired entries are deleted at least this often (and at most every second), with or without traffic. */
export const CACHE_PURGE_MAX_MS = 60_000;

/**
 * The exact-match response cache of the pipeline (CACHE_MODE=exact, docs/cache.md) over the ledger's
 * `ResponseCacheStore`. A call is cacheable when it is not streamed, runs no drill and (a chat call) asks for no
 * tools; its key is a sha256 of the provider, endpoint, model chain, output limit, normalised prompt and document,
 * the configured temperature, a chat call's conversation and settings, and (CACHE_SCOPE=key, the default) the API
 * key the call was made with, so that one key's answers are never served to another. The cache never fails a call: an error is
 * a miss (and a warning at most once a minute). Expired entries are deleted by each put and by a sweep every
 * `CACHE_PURGE_MAX_MS` at most (or CACHE_TTL_S, when shorter), so an answer is not kept past its TTL when traffic stops.
 */
@Injectable()
export class ResponseCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ResponseCache');
  readonly enabled: boolean;
  private readonly warnings = new WarningThrottle(WARN_EVERY_MS);
  private purgeTimer: NodeJS.Timeout | undefined;
  /**
   * The keys a call of this process missed and is answering now (its leader): settled once its answer is stored, or
   * once it ends without one. An identical call that misses meanwhile waits for it (`lookup`) instead of asking the
   * provider the same question again.
   */
  private readonly leaders = new Map<string, Promise<void>>();
  /** The last lookup, store or sweep, when it failed (none once one succeeds): readiness says so. */
  private failing: { what: string; at: number; message: string } | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly entries: ResponseCacheStore,
    private readonly metrics: MetricsPort,
    private readonly provider: LlmProvider,
    private readonly readiness: ReadinessRegistry,
  ) {
    this.enabled = config.cache.mode === 'exact';
  }

  onModuleInit(): void {
    this.readiness.register('responseCache', () => this.status());
    if (!this.enabled) return;
    const every = Math.min(CACHE_PURGE_MAX_MS, Math.max(1_000, this.config.cache.ttlS * 1000));
    this.purgeTimer = setInterval(() => void this.purgeExpired(), every);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
  }

  /**
   * `GET /health/ready`: degraded while the cache's last lookup, store or sweep failed (every call is then a miss,
   * answered by the provider; before, a broken store only showed as a 100 % miss rate and a warning a minute).
   */
  private status(): DependencyStatus {
    if (!this.enabled) return { status: 'disabled', detail: 'CACHE_MODE=off' };
    const { ttlS, maxEntries, scope } = this.config.cache;
    const label = `${this.entries.kind}; CACHE_TTL_S=${ttlS}, at most ${maxEntries} entries, scope ${scope}`;
    const failing = this.failing;
    if (!failing) return { status: 'ok', detail: label };
    const ago = Math.max(0, Math.round((Date.now() - failing.at) / 1000));
    return {
      status: 'degraded',
      detail: `${label}; its last ${failing.what} failed ${ago} s ago (calls are answered as misses): ${failing.message}`,
    };
  }

  /** Deletes the expired entries (the sweep); returns how many, 0 on a failure (a warning at most once a minute). */
  async purgeExpired(): Promise<number> {
    try {
      const now = this.now();
      const deleted = await this.entries.purgeExpired(now, this.storedAfter(now));
      this.failing = undefined;
      return deleted;
    } catch (error) {
      this.warn('purge of expired entries', error);
      return 0;
    }
  }

  /**
   * Entries stored at or before this are expired by the current CACHE_TTL_S, whatever TTL they were stored with: a
   * TTL shortened across a restart (or differing between replicas) applies to the answers already stored, which were
   * otherwise served and kept until their old expiry (up to the longer TTL).
   */
  private storedAfter(now: number): number {
    return now - this.config.cache.ttlS * 1000;
  }

  /** The clock, epoch ms (a seam for tests). */
  now(): number {
    return Date.now();
  }

  /** The call's key, or undefined when it is not cacheable (cache off, a drill, a chat call with tools). */
  keyOf(
    ctx: Pick<CallContext, 'input' | 'prompt' | 'chain' | 'maxOutputTokens' | 'drillsApplied'>,
    routing?: RouteConstraints,
  ): string | undefined {
    if (!this.enabled) return undefined;
    const { input } = ctx;
    const drills = input.drills;
    if (drills.latency || drills.retry || drills.badPrompt || drills.longContext || ctx.drillsApplied.length > 0) {
      return undefined;
    }
    const chat = input.chat;
    if (chat && ((chat.tools?.length ?? 0) > 0 || chat.toolChoice !== undefined)) return undefined;
    const material = {
      v: KEY_VERSION,
      // Per API key (CACHE_SCOPE=key): calls without a key (auth off, AUTH_DISABLED) share one partition.
      principal: this.config.cache.scope === 'key' ? (input.principal ?? null) : null,
      provider: this.provider.name,
      endpoint: input.endpoint,
      // A routed call is keyed by its candidates and constraints (its model is chosen after the lookup).
      chain: routing ? { router: this.config.router.candidates, constraints: routing } : ctx.chain,
      maxOutputTokens: ctx.maxOutputTokens,
      temperature: this.config.llm.temperature,
      prompt: normaliseText(ctx.prompt),
      document: input.document === undefined ? null : normaliseText(input.document),
      chat: chat
        ? {
            model: chat.model,
            messages: chat.messages.map((m) => ({
              role: m.role,
              content: normaliseText(m.content),
              toolCalls: m.toolCalls ?? null,
              toolCallId: m.toolCallId ?? null,
              toolName: m.toolName ?? null,
            })),
            temperature: chat.temperature ?? null,
            topP: chat.topP ?? null,
            // Only when set: the keys of calls without them stay those stored before these were translated.
            ...(chat.seed !== undefined ? { seed: chat.seed } : {}),
            ...(chat.presencePenalty !== undefined ? { presencePenalty: chat.presencePenalty } : {}),
            ...(chat.frequencyPenalty !== undefined ? { frequencyPenalty: chat.frequencyPenalty } : {}),
            stop: chat.stopSequences ?? null,
            responseFormat: chat.responseFormat ?? null,
          }
        : null,
    };
    return createHash('sha256').update(JSON.stringify(material)).digest('hex');
  }

  /**
   * The unexpired answer stored under the call's key, counted as a hit or a miss; undefined on any failure.
   *
   * Concurrent identical calls (a stampede) ask the provider once per process: a call that misses while an identical
   * call is on its way to the provider waits for that call's answer to be stored (at most LLM_TIMEOUT_MS and what is
   * left of its deadline, and no longer than its client stays) and is served from it. A miss with no such call makes
   * this call the leader of its key until `release` (its answer stored, or its end without one).
   */
  async lookup(ctx: CallContext, key: string): Promise<CacheHit | undefined> {
    const tags = this.tags(ctx.input.endpoint, ctx.chain[0] ?? this.config.llm.model);
    let hit = await this.find(key);
    if (!hit) {
      const leader = this.leaders.get(key);
      if (leader) {
        await this.follow(leader, ctx);
        hit = await this.find(key);
      } else {
        this.lead(ctx, key);
      }
    }
    if (!hit) this.metrics.increment(M.cacheMisses.name, 1, tags);
    return hit;
  }

  /** The call no longer leads its key (it ended, or its answer is stored): the calls waiting for it look again. Once. */
  release(ctx: CallContext): void {
    const release = ctx.cacheLeader;
    ctx.cacheLeader = undefined;
    release?.();
  }

  private lead(ctx: CallContext, key: string): void {
    let settle!: () => void;
    const leader = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.leaders.set(key, leader);
    ctx.cacheLeader = () => {
      if (this.leaders.get(key) === leader) this.leaders.delete(key);
      settle();
    };
  }

  /** Waits for a leader: until it settles, LLM_TIMEOUT_MS or the call's deadline has passed, or its client left. */
  private async follow(leader: Promise<void>, ctx: CallContext): Promise<void> {
    const signal = ctx.input.signal;
    const waitMs = Math.min(this.config.llm.timeoutMs, ctx.deadline - performance.now());
    if (signal?.aborted || waitMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    let stop: (() => void) | undefined;
    const given = new Promise<void>((resolve) => {
      stop = () => resolve();
      timer = setTimeout(stop, waitMs);
      signal?.addEventListener('abort', stop, { once: true });
    });
    try {
      await Promise.race([leader, given]);
    } finally {
      clearTimeout(timer);
      if (stop) signal?.removeEventListener('abort', stop);
    }
  }

  /** The unexpired answer stored under `key`; undefined when there is none or on any failure (a warning). */
  private async find(key: string): Promise<CacheHit | undefined> {
    try {
      const now = this.now();
      const found = await this.entries.get(key, now, this.storedAfter(now));
      this.failing = undefined;
      return found
        ? { cached: parseCached(found.payload), ageS: Math.max(0, Math.floor((now - found.createdAt) / 1000)) }
        : undefined;
    } catch (error) {
      this.warn('lookup', error);
      return undefined;
    }
  }

  /** The metrics of a call answered from the cache: the hit and what it saved. */
  recordHit(result: LlmCallResult, info: CacheInfo): void {
    const tags = this.tags(result.endpoint, result.model);
    this.metrics.increment(M.cacheHits.name, 1, tags);
    if (info.savedCostUsd !== null && info.savedCostUsd > 0) {
      this.metrics.increment(M.cacheSaved.name, info.savedCostUsd, tags);
    }
  }

  /**
   * Stores a provider's answer under the call's key, off the response path: only a cacheable call (a key), answered
   * in full as text (no safety block, no tool calls, not empty, at most CACHE_MAX_ANSWER_CHARS). Never throws. The
   * calls waiting for this one (its key's leader) look again once the entry is stored.
   */
  store(ctx: CallContext, result: LlmCallResult): void {
    const key = ctx.cacheKey;
    if (key === undefined || ctx.cacheHit !== undefined) return;
    if (result.safetyBlock || result.drillsApplied.length > 0 || (result.toolCalls?.length ?? 0) > 0) return;
    if (result.answer.length === 0 || result.answer.length > CACHE_MAX_ANSWER_CHARS) return;
    const cached: CachedAnswer = {
      v: KEY_VERSION,
      provider: result.provider,
      simulated: result.simulated,
      model: result.model,
      modelVersion: result.modelVersion,
      requestedModel: result.requestedModel,
      answer: result.answer,
      finishReason: result.finishReason,
      ...(result.rawFinishReason !== undefined ? { rawFinishReason: result.rawFinishReason } : {}),
      usage: result.usage,
      cost: result.cost,
      ...(result.quality ? { quality: result.quality } : {}),
    };
    const now = this.now();
    const entry = {
      key,
      payload: JSON.stringify(cached),
      createdAt: now,
      expiresAt: now + this.config.cache.ttlS * 1000,
    };
    const release = ctx.cacheLeader;
    ctx.cacheLeader = undefined;
    this.persist(entry, now, release);
  }

  private persist(
    entry: { key: string; payload: string; createdAt: number; expiresAt: number },
    now: number,
    stored?: () => void,
  ): void {
    let put: Promise<boolean>;
    try {
      put = this.entries.put(entry, this.config.cache.maxEntries, now, this.storedAfter(now));
    } catch (error) {
      this.warn('store', error);
      stored?.();
      return;
    }
    put
      .then(
        () => {
          this.failing = undefined;
        },
        (error: unknown) => this.warn('store', error),
      )
      .finally(() => stored?.());
  }

  private tags(endpoint: string, model: string): string[] {
    return formatTags({ [TAG.endpoint]: endpoint, [TAG.model]: model });
  }

  private warn(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.failing = { what, at: Date.now(), message };
    const suppressed = this.warnings.admit();
    if (suppressed === undefined) return;
    this.logger.warn(
      `response cache ${what} failed (served as a miss; next warning in a minute at the earliest): ${message}` +
        heldBack(suppressed),
    );
  }
}
