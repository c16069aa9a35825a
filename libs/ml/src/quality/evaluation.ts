/** Area under the ROC curve (probability a random positive outranks a random negative; ties count half). */
export function auroc(scores: readonly number[], labels: readonly number[]): number {
  const pairs = scores.map((s, i) => ({ s, y: labels[i] ?? 0 })).sort((a, b) => a.s - b.s);
  let rankSum = 0;
  let positives = 0;
  let i = 0;
  while (i < pairs.length) {
    let j = i;
    while (j + 1 < pairs.length && pairs[j + 1]!.s === pairs[i]!.s) j += 1;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (pairs[k]!.y === 1) {
        rankSum += averageRank;
        positives += 1;
      }
    }
    i = j + 1;
  }
  const negatives = pairs.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface CalibrationBin {
  from: number;
  to: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

export interface Calibration {
  /** Expected calibration error over 10 equal-width bins. */
  ece: number;
  brier: number;
  bins: CalibrationBin[];
}

export function calibration(scores: readonly number[], labels: readonly number[], binCount = 10): Calibration {
  const bins: CalibrationBin[] = [];
  let ece = 0;
  let brier = 0;
  scores.forEach((s, i) => (brier += (s - (labels[i] ?? 0)) ** 2));
  for (let b = 0; b < binCount; b++) {
    const from = b / binCount;
    const to = (b + 1) / binCount;
    const members = scores
      .map((s, i) => ({ s, y: labels[i] ?? 0 }))
      .filter(({ s }) => s >= from && (s < to || (b === binCount - 1 && s <= to)));
    if (members.length === 0) continue;
    const meanPredicted = members.reduce((a, m) => a + m.s, 0) / members.length;
    const observedRate = members.reduce((a, m) => a + m.y, 0) / members.length;
    ece += (members.length / scores.length) * Math.abs(meanPredicted - observedRate);
    bins.push({ from, to, count: members.length, meanPredicted, observedRate });
  }
  return { ece, brier: brier / Math.max(1, scores.length), bins };
}

export interface Confusion {
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function confusion(predicted: readonly boolean[], labels: readonly number[]): Confusion {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  predicted.forEach((p, i) => {
    const y = labels[i] === 1;
    if (p && y) tp += 1;
    else if (p && !y) fp += 1;
    else if (!p && y) fn += 1;
    else tn += 1;
  });
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, accuracy: (tp + tn) / Math.max(1, predicted.length), tp, fp, tn, fn };
}
