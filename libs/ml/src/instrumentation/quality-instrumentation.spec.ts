import { formatTags, InMemoryMetrics } from '@app/telemetry';
import { StatsdMetricsAdapter } from '../../../telemetry/src/metrics/statsd-metrics.adapter';
import { testConfig } from '../../../../test/support/app-config';
import { DogStatsdReceiver } from '../../../../test/support/dogstatsd-receiver';
import type { QualityReport } from '../quality/quality.types';
import type { PromptSafetyReport } from '../safety/safety.service';
import { QualityInstrumentation } from './quality-instrumentation';

const TAGS = formatTags({ endpoint: 'qa', provider: 'simulated', model: 'gemini-2.5-flash' });
const quality: QualityReport = {
  overall: 0.12,
  label: 'bad',
  reasons: ['ungrounded'],
  relevance: 0.4,
  groundedness: 0.2,
  ungrounded: true,
  failureToAnswer: true,
  scorer: 'model',
  semanticSimilarity: 0.5,
  judged: 'text',
  checks: [],
};
const safety: PromptSafetyReport = {
  piiTypes: ['email', 'secret'],
  injection: { score: 0.9, flagged: true, signals: ['ignore_instructions'] },
  tokenAbuse: true,
};
const clean: PromptSafetyReport = {
  piiTypes: [],
  injection: { score: 0, flagged: false, signals: [] },
  tokenAbuse: false,
};

describe('QualityInstrumentation', () => {
  it('emits every quality and security metric once per call, with bounded tags', () => {
    const metrics = new InMemoryMetrics();
    new QualityInstrumentation(metrics).record(quality, safety, TAGS, 'blocked');
    expect(metrics.recorded.map((m) => `${m.type} ${m.name}=${m.value} ${m.tags.join(',')}`).sort()).toEqual(
      [
        'count llm.failure_to_answer.count=1 endpoint:qa,provider:simulated,model:gemini-2.5-flash',
        'count llm.security.pii_detected.count=1 endpoint:qa,provider:simulated,model:gemini-2.5-flash,pii_type:email',
        'count llm.security.pii_detected.count=1 endpoint:qa,provider:simulated,model:gemini-2.5-flash,pii_type:secret',
        'count llm.security.prompt_injection.count=1 endpoint:qa,provider:simulated,model:gemini-2.5-flash,action:blocked',
        'count llm.security.token_abuse.count=1 endpoint:qa,provider:simulated,model:gemini-2.5-flash',
        'count llm.ungrounded_answer.count=1 endpoint:qa,provider:simulated,model:gemini-2.5-flash',
        'distribution llm.quality.groundedness=0.2 endpoint:qa,provider:simulated,model:gemini-2.5-flash',
        'distribution llm.quality.relevance=0.4 endpoint:qa,provider:simulated,model:gemini-2.5-flash',
        'distribution llm.quality.score=0.12 endpoint:qa,provider:simulated,model:gemini-2.5-flash,label:bad',
      ].sort(),
    );
  });

  it('emits only the quality distributions for a clean, good answer without a document', () => {
    const metrics = new InMemoryMetrics();
    new QualityInstrumentation(metrics).record(
      { ...quality, overall: 0.9, label: 'good', groundedness: null, ungrounded: false, failureToAnswer: false },
      clean,
      TAGS,
      'none',
    );
    expect(metrics.recorded.map((m) => m.name).sort()).toEqual(['llm.quality.relevance', 'llm.quality.score']);
  });

  it('emits the security metrics when the call was blocked before any answer', () => {
    const metrics = new InMemoryMetrics();
    new QualityInstrumentation(metrics).record(
      undefined,
      { ...clean, injection: { score: 0.8, flagged: true, signals: [] } },
      TAGS,
      'flagged',
    );
    expect(metrics.recorded).toEqual([
      { type: 'count', name: 'llm.security.prompt_injection.count', value: 1, tags: [...TAGS, 'action:flagged'] },
    ]);
  });

  it('reaches a real DogStatsD socket through the StatsD adapter', async () => {
    const receiver = await new DogStatsdReceiver().start();
    const adapter = new StatsdMetricsAdapter(
      testConfig({ DD_DOGSTATSD_PORT: String(receiver.port), STATSD_FLUSH_INTERVAL_MS: '10', DD_ENV: 'test' }),
    );
    try {
      new QualityInstrumentation(adapter).record(quality, safety, TAGS, 'flagged');
      const lines = await receiver.waitFor((l) => l.length >= 9);
      const score = lines.find((l) => l.name === 'llm.quality.score')!;
      expect(score.type).toBe('d');
      expect(score.value).toBe(0.12);
      expect(score.tags).toEqual(
        expect.arrayContaining(['endpoint:qa', 'model:gemini-2.5-flash', 'label:bad', 'env:test']),
      );
      expect(
        lines
          .filter((l) => l.name === 'llm.security.pii_detected.count')
          .map((l) => l.tags.find((t) => t.startsWith('pii_type:'))),
      ).toEqual(['pii_type:email', 'pii_type:secret']);
      expect(lines.find((l) => l.name === 'llm.security.prompt_injection.count')!.tags).toContain('action:flagged');
      expect(lines.find((l) => l.name === 'llm.ungrounded_answer.count')!.type).toBe('c');
    } finally {
      await adapter.close();
      await receiver.close();
    }
  });
});
