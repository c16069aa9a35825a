import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The built usage-file parser (`ledger:import`, `ml:train -- cost --from file`), loaded in a process of its own. */
const PARSER_JS = resolve(__dirname, '../dist/libs/ledger/src/import/usage-file.parser.js');

/** The UTC hours (ISO) the built parser files `times` under, in a process whose time zone is `tz`. */
function hoursUnder(tz: string, times: readonly string[]): string[] {
  if (!existsSync(PARSER_JS)) throw new Error(`${PARSER_JS} is missing: run "nest build" first (npm test does)`);
  const script = `
    const { parseUsageFile } = require(${JSON.stringify(PARSER_JS)});
    const times = JSON.parse(process.argv[1]);
    const hours = times.map((t) => new Date(parseUsageFile('hour,cost_usd\\n' + t + ',1\\n', 'csv')[0].hour).toISOString());
    process.stdout.write(JSON.stringify({ offset: new Date(Date.UTC(2026, 10, 1, 10)).getTimezoneOffset(), hours }));
  `;
  const out = execFileSync(process.execPath, ['-e', script, JSON.stringify(times)], {
    env: { PATH: process.env.PATH ?? '', TZ: tz },
    encoding: 'utf8',
  });
  const { offset, hours } = JSON.parse(out) as { offset: number; hours: string[] };
  // The zone is in force in that process (Kolkata is UTC+05:30, New York UTC-05:00 in November).
  expect(offset).toBe(tz === 'Asia/Kolkata' ? -330 : tz === 'America/New_York' ? 300 : 0);
  return hours;
}

describe('the process time zone (TZ) changes no hour of the ledger: the docs say UTC', () => {
  it.each(['Asia/Kolkata', 'America/New_York'])(
    'an imported time without an offset is UTC under TZ=%s (it was read in the local zone)',
    (tz) => {
      // Under TZ=Asia/Kolkata 10:00 went into the hour of 04:00 UTC; under New York, 15:00.
      expect(hoursUnder(tz, ['2026-11-01T10:00:00', '2026-11-01 10:59', '2026-11-01T15:30:00+05:30'])).toEqual([
        '2026-11-01T10:00:00.000Z',
        '2026-11-01T10:00:00.000Z',
        '2026-11-01T10:00:00.000Z',
      ]);
    },
  );
});
