import { RequestValidationError } from '@app/common';
import { OptimizationController } from './optimization.controller';
import type { OptimizationService } from './optimization.service';

/** The service's calls as the controller makes them; what they answer does not matter here. */
function controller() {
  const calls: unknown[][] = [];
  const record =
    (name: string) =>
    (...args: unknown[]): Promise<never> => {
      calls.push([name, ...args]);
      return Promise.resolve(undefined as never);
    };
  const service = {
    implement: record('implement'),
    recordResult: record('recordResult'),
    roiReport: record('roiReport'),
  } as unknown as OptimizationService;
  return { calls, optimization: new OptimizationController(service) };
}

async function refusal(call: Promise<unknown>): Promise<RequestValidationError> {
  const error = await call.catch((e: unknown) => e);
  if (error instanceof RequestValidationError) return error;
  throw new Error(`not refused: ${String(error)}`);
}

describe('OptimizationController: bodies whose every field is optional', () => {
  it('may be left out (curl -X POST with no body): implement, record-result, roi-report read none as {}', async () => {
    const { calls, optimization } = controller();
    await optimization.implementRecommendation('opt-1', undefined);
    await optimization.recordResult('opt-1', undefined);
    await optimization.roiReportByBody(undefined);
    expect(calls).toEqual([
      ['implement', 'opt-1', undefined],
      ['recordResult', 'opt-1', 7],
      ['roiReport', 7, undefined],
    ]);
  });

  it('are validated as every body is when sent: values, unknown fields, not an object', async () => {
    const { calls, optimization } = controller();
    await optimization.recordResult('opt-1', { period_days: 30 });
    expect(calls).toEqual([['recordResult', 'opt-1', 30]]);
    expect((await refusal(optimization.recordResult('opt-1', { period_days: 0 }))).errors[0]?.field).toBe(
      'period_days',
    );
    expect((await refusal(optimization.recordResult('opt-1', { before_cost: 1 }))).errors[0]?.field).toBe(
      'before_cost',
    );
    expect((await refusal(optimization.implementRecommendation('opt-1', [1]))).errors[0]?.field).toBe('body');
    expect((await refusal(optimization.roiReportByBody({ days: '7' }))).errors[0]?.field).toBe('days');
    expect(calls).toHaveLength(1);
  });
});

describe('OptimizationController: the ROI report, GET and POST alike', () => {
  it('reads an empty category as every category in the body too, as GET reads `category=`', async () => {
    // Before, POST {"category": ""} was a 400 (`category should not be empty`) where GET ?category= meant all.
    const { calls, optimization } = controller();
    await optimization.roiReportByBody({ days: 3, category: '' });
    await optimization.roiReportByBody({ category: 'caching' });
    expect(calls).toEqual([
      ['roiReport', 3, undefined],
      ['roiReport', 7, 'caching'],
    ]);
  });
});
