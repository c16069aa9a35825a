import { createValidationPipe, RequestValidationError, type FieldProblem } from '@app/common';
import { AttributeAnomalyQueryDto, AttributeAnomalyRequestDto, parseTimestamp } from './anomaly-attribution.dto';

const pipe = createValidationPipe();

async function problems(metatype: new () => unknown, value: unknown, type: 'body' | 'query'): Promise<FieldProblem[]> {
  try {
    await pipe.transform(value, { type, metatype });
  } catch (error) {
    if (error instanceof RequestValidationError) return error.errors;
    throw error;
  }
  return [];
}

/**
 * The anomaly's moment bounds the windows of the answer, whose `start`/`end` are `format: date-time` (RFC 3339: a
 * four-digit year). `9999-12-31T23:30:00Z` was taken, and its analysis window ended at `+010000-01-01T00:00:00.000Z`.
 */
describe('AttributeAnomalyRequestDto anomalyTimestamp', () => {
  it('takes an ISO 8601 date-time up to the hour before the last of year 9999', async () => {
    for (const anomalyTimestamp of ['2026-03-01T14:00:00Z', '2026-03-01T14:00:00+05:00', '9999-12-31T22:59:59.999Z'])
      expect(await problems(AttributeAnomalyRequestDto, { metric: 'cost', anomalyTimestamp }, 'body')).toEqual([]);
  });

  it('takes the lower-case `t` and `z` RFC 3339 allows, as the same moment (body and query forms)', async () => {
    for (const anomalyTimestamp of ['2026-03-01t14:00:00z', '2026-03-01t14:00:00Z', '2026-03-01T14:00:00z']) {
      expect(await problems(AttributeAnomalyRequestDto, { metric: 'cost', anomalyTimestamp }, 'body')).toEqual([]);
      const query = { metric_name: 'cost', anomaly_timestamp: anomalyTimestamp };
      expect(await problems(AttributeAnomalyQueryDto, query, 'query')).toEqual([]);
      expect(parseTimestamp(anomalyTimestamp)).toBe(Date.parse('2026-03-01T14:00:00Z'));
    }
    // Naive (no offset) with a lower-case `t`: UTC too.
    expect(parseTimestamp('2026-03-01t14:00:00')).toBe(Date.parse('2026-03-01T14:00:00Z'));
  });

  it('refuses a moment in the last hour of year 9999 or later, naming the field (body and query forms)', async () => {
    for (const anomalyTimestamp of ['9999-12-31T23:30:00Z', '9999-12-31T23:00:00Z', '9999-12-31T22:30:00-01:00']) {
      expect(await problems(AttributeAnomalyRequestDto, { metric: 'cost', anomalyTimestamp }, 'body')).toEqual([
        {
          field: 'anomalyTimestamp',
          reason:
            'anomalyTimestamp must be an ISO 8601 date-time (e.g. 2026-03-01T14:00:00Z) before 9999-12-31T23:00:00Z',
        },
      ]);
      const query = { metric_name: 'cost', anomaly_timestamp: anomalyTimestamp };
      expect((await problems(AttributeAnomalyQueryDto, query, 'query')).map((p) => p.field)).toEqual([
        'anomaly_timestamp',
      ]);
    }
  });
});

describe('AttributeAnomalyQueryDto metric_name', () => {
  const metricOf = async (metric_name: string): Promise<unknown> =>
    (
      (await pipe.transform({ metric_name }, { type: 'query', metatype: AttributeAnomalyQueryDto })) as {
        metric_name: unknown;
      }
    ).metric_name;

  it("reads the origin's metric names, its similarity score (what its quality monitors watched) as quality", async () => {
    expect(await metricOf('llm.cost.usd')).toBe('cost');
    expect(await metricOf('llm.request.latency_ms')).toBe('latency');
    expect(await metricOf('llm.error.count')).toBe('errors');
    expect(await metricOf('llm.semantic_similarity_score')).toBe('quality');
    expect(await metricOf('llm.quality.semantic_similarity')).toBe('quality');
    expect(
      (await problems(AttributeAnomalyQueryDto, { metric_name: 'llm.health_score' }, 'query')).map((p) => p.field),
    ).toEqual(['metric_name']);
  });
});
