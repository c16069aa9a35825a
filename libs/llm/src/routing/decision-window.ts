/** Decisions of the last hour, by model and reason: per-minute buckets, the oldest dropped as time moves on. */
export interface DecisionCounts {
  windowS: number;
  total: number;
  byModel: { model: string; count: number; byReason: Record<string, number> }[];
}

const BUCKET_MS = 60_000;
const BUCKETS = 60;

interface Bucket {
  minute: number;
  counts: Map<string, Map<string, number>>;
}

/** Counts routing decisions over a sliding hour (GET /llm/router). Bounded: models and reasons are bounded sets. */
export class DecisionWindow {
  private readonly buckets: Bucket[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  add(model: string, reason: string): void {
    const minute = Math.floor(this.now() / BUCKET_MS);
    let bucket = this.buckets[this.buckets.length - 1];
    if (bucket?.minute !== minute) {
      bucket = { minute, counts: new Map() };
      this.buckets.push(bucket);
      while (this.buckets.length > 0 && this.buckets[0]!.minute <= minute - BUCKETS) this.buckets.shift();
    }
    let reasons = bucket.counts.get(model);
    if (!reasons) bucket.counts.set(model, (reasons = new Map<string, number>()));
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }

  counts(): DecisionCounts {
    const since = Math.floor(this.now() / BUCKET_MS) - BUCKETS;
    const byModel = new Map<string, Record<string, number>>();
    let total = 0;
    for (const bucket of this.buckets) {
      if (bucket.minute <= since) continue;
      for (const [model, reasons] of bucket.counts) {
        const into = byModel.get(model) ?? {};
        for (const [reason, n] of reasons) {
          into[reason] = (into[reason] ?? 0) + n;
          total += n;
        }
        byModel.set(model, into);
      }
    }
    return {
      windowS: (BUCKET_MS * BUCKETS) / 1000,
      total,
      byModel: [...byModel]
        .map(([model, byReason]) => ({ model, count: Object.values(byReason).reduce((a, b) => a + b, 0), byReason }))
        .sort((a, b) => b.count - a.count || a.model.localeCompare(b.model)),
    };
  }
}
