/**
 * Applies the Datadog resources kept as code under datadog/ (monitors, SLOs, dashboards, logs pipelines,
 * synthetics, notebooks, workflows, on-call, the incident field): finds each by name, creates or updates it, or
 * leaves it; resolves the ids the files reference (composite monitors, burn-rate monitors, the dashboard's SLOs).
 *
 *   npm run datadog:apply                 apply (needs DD_API_KEY and DD_APP_KEY)
 *   npm run datadog:apply -- --dry-run    print the plan, change nothing (without keys: every file "create")
 *
 * Placeholders come from config: DD_SERVICE, DD_ENV, DATADOG_NOTIFY_HANDLES, DATADOG_RUNBOOK_BASE_URL,
 * PUBLIC_BASE_URL (synthetics), DATADOG_ONCALL_USER_IDS (on-call). docs/datadog.md says what is provisioned.
 */
import { resolve } from 'node:path';
import { loadConfig } from '@app/config';
import {
  applyResources,
  createDatadogResources,
  createResourcePayloadChecker,
  loadResourceFiles,
  resourceContextOf,
  type PlanEntry,
} from '@app/datadog';

const USAGE = 'usage: npm run datadog:apply [-- --dry-run] [--dir DIR]';

export function formatPlanLine(entry: PlanEntry): string {
  const id = entry.id ? ` [${entry.id}]` : '';
  const detail = entry.detail ? ` (${entry.detail})` : '';
  return `${entry.action.padEnd(9)} ${entry.kind.padEnd(25)} ${entry.path}${entry.name ? `  "${entry.name}"` : ''}${id}${detail}`;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a, i) => !['--dry-run', '--dir'].includes(a) && args[i - 1] !== '--dir');
  if (unknown.length > 0) throw new Error(`unknown arguments ${unknown.join(' ')}\n${USAGE}`);
  const dryRun = args.includes('--dry-run');
  const dirIndex = args.indexOf('--dir');
  const datadogDir = resolve(dirIndex >= 0 ? (args[dirIndex + 1] ?? 'datadog') : 'datadog');

  const config = loadConfig();
  const port = createDatadogResources(config);
  if (!dryRun && !port) {
    throw new Error(
      'datadog:apply needs DD_API_KEY and DD_APP_KEY to change Datadog; run `npm run datadog:apply -- --dry-run` to see the plan without them',
    );
  }
  const { files, unreadable } = loadResourceFiles(datadogDir);
  console.log(
    `${dryRun ? 'Plan (dry run: nothing is changed)' : 'Applying'}: ${files.length} files from ${datadogDir}, ` +
      `service ${config.service.name}, env ${config.service.env}, Datadog API ${port ? config.datadog.apiUrl : 'not configured (no lookups: every file is planned as create)'}`,
  );
  const entries = await applyResources(files, resourceContextOf(config), {
    dryRun,
    port,
    checker: createResourcePayloadChecker(),
  });
  for (const entry of entries) console.log(formatPlanLine(entry));
  for (const file of unreadable) console.log(`${'error'.padEnd(9)} ${'?'.padEnd(25)} ${file.path} (${file.problem})`);

  const count = (action: PlanEntry['action']): number => entries.filter((e) => e.action === action).length;
  console.log(
    `${dryRun ? 'would ' : ''}create ${count('create')}, ${dryRun ? 'would ' : ''}update ${count('update')}, ` +
      `unchanged ${count('unchanged')}, skipped ${count('skip')}, errors ${count('error') + unreadable.length}`,
  );
  const dashboard = entries.find((e) => e.kind === 'dashboard' && e.id && !e.id.startsWith('pending'));
  if (dashboard?.id && dashboard.id !== config.datadog.dashboardId) {
    console.log(`dashboard id ${dashboard.id}: set DATADOG_DASHBOARD_ID=${dashboard.id} for the incident links`);
  }
  return count('error') + unreadable.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
