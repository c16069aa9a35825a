import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { WarningThrottle } from '@app/common';
import { MetricsPort } from '@app/telemetry';
import { EmbeddingsPort } from '../embeddings/embeddings.port';
import { cosine } from '../embeddings/tokenize';
import { ML_METRICS } from '../ml.metrics';

const MAX_PENDING = 16;
const MAX_CHARS = 8_000;
const ERROR_LOG_INTERVAL_MS = 60_000;

export interface RemoteRelevance {
  /** Cosine of the question and answer embeddings from the remote model, clipped to [0,1]. */
  relevance: number;
  embedder: string;
}

/**
 * Off the response path: when a remote embedding provider is configured (vertex, gemini, openai), embeds
 * the question and answer there after the response has been sent and records the remote relevance as a
 * metric (and to an optional callback, e.g. an LLM Observability evaluation). At most 16 refinements are in
 * flight; more are dropped and counted, never queued without bound. Never throws into the caller.
 */
@Injectable()
export class QualityRefiner implements OnApplicationShutdown {
  private readonly logger = new Logger('QualityRefiner');
  private readonly inFlight = new Set<Promise<void>>();
  private readonly errorLog = new WarningThrottle(ERROR_LOG_INTERVAL_MS);
  dropped = 0;
  failed = 0;
  completed = 0;

  /**
   * @param sampleRate share of answers refined (ML_REMOTE_EMBEDDINGS_SAMPLE_RATE): each refinement is a
   *   second upstream call, so a small sample keeps the cost bounded while the metric stays representative.
   */
  constructor(
    private readonly embeddings: EmbeddingsPort,
    private readonly metrics: MetricsPort,
    private readonly sampleRate = 1,
    private readonly random: () => number = Math.random,
  ) {}

  /** True when a remote embedder is configured. */
  get enabled(): boolean {
    return this.embeddings.remote;
  }

  /** Starts a refinement in the background; false when disabled or when too many are in flight. */
  submit(
    question: string,
    answer: string,
    tags: readonly string[],
    onResult?: (result: RemoteRelevance) => void,
  ): boolean {
    if (!this.enabled || !answer.trim()) return false;
    if (this.sampleRate < 1 && this.random() >= this.sampleRate) return false;
    if (this.inFlight.size >= MAX_PENDING) {
      this.dropped += 1;
      return false;
    }
    const task = this.refine(question.slice(0, MAX_CHARS), answer.slice(0, MAX_CHARS), tags, onResult).finally(() =>
      this.inFlight.delete(task),
    );
    this.inFlight.add(task);
    return true;
  }

  /** Waits for the refinements in flight (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  private async refine(
    question: string,
    answer: string,
    tags: readonly string[],
    onResult?: (result: RemoteRelevance) => void,
  ): Promise<void> {
    try {
      const [q, a] = await this.embeddings.embed([question, answer]);
      const relevance = Math.max(0, Math.min(1, cosine(q!, a!)));
      this.metrics.distribution(ML_METRICS.remoteRelevance.name, Math.round(relevance * 1000) / 1000, tags);
      this.completed += 1;
      onResult?.({ relevance, embedder: this.embeddings.name });
    } catch (error) {
      this.failed += 1;
      if (this.errorLog.admit() !== undefined) {
        this.logger.warn(
          `remote relevance failed (${this.failed} so far, logged once a minute): ${(error as Error).message}`,
        );
      }
    }
  }
}
