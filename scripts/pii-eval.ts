/**
 * The PII detector's labelled evaluation (data/pii-eval; docs/ml.md, "Personal data and secrets").
 *
 *   sh scripts/ts-run.sh scripts/pii-eval.ts [--set eval|holdout|dob-address|names | --file <path.jsonl>] [--misses] [--json]
 *
 * Prints recall and precision per type and overall as a Markdown table; --misses lists every missed value and every
 * false positive with its line; --json prints the report as JSON instead.
 */
import { join, resolve } from 'node:path';
import { PiiDetector } from '../libs/ml/src/pii/pii-detector';
import { evaluatePiiDetector, formatPiiEvalReport, loadPiiEvalSet } from '../libs/ml/src/pii/pii-eval';

function main(): void {
  const args = process.argv.slice(2);
  const setIndex = args.indexOf('--set');
  const fileIndex = args.indexOf('--file');
  const set = setIndex >= 0 ? args[setIndex + 1] : 'eval';
  const sets = ['eval', 'holdout', 'dob-address', 'names'];
  // Any other set in the same format (data/pii-everyday/probe.jsonl, data/pii-fourth/probe.jsonl).
  const other = fileIndex >= 0 ? args[fileIndex + 1] : undefined;
  if ((fileIndex >= 0 && other === undefined) || (other === undefined && (set === undefined || !sets.includes(set)))) {
    console.error(`usage: pii-eval.ts [--set ${sets.join('|')} | --file <path.jsonl>] [--misses] [--json]`);
    process.exit(2);
  }
  const file = other !== undefined ? resolve(other) : join(process.cwd(), 'data', 'pii-eval', `${set}.jsonl`);
  const report = evaluatePiiDetector(new PiiDetector(), loadPiiEvalSet(file));
  if (args.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else console.log(`${file} (${report.rows} rows)\n\n${formatPiiEvalReport(report, args.includes('--misses'))}`);
}

main();
