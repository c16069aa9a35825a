import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page, type Request, type Route } from 'playwright-core';
import { bundleControlRoom } from '../libs/control-room/build/bundle-web';
import { loadConfig } from '@app/config';
import { rumIntakeOrigin } from '../libs/control-room/src/page-config';
import { TEST_API_KEYS, TEST_AUTH_ENV, xApiKey } from './support/api-keys';
import { post, startWithTelemetry, type TelemetryStack } from './support/http';

/**
 * Issue #20, the control room: the page at /ui, built by the project's own bundler, served by the built service with
 * auth on, driven in Debian's headless Chromium (playwright-core, no downloaded browser). It signs in with a test key,
 * shows every panel with real values from real calls, runs a drill (the score falls, an incident queues up, then
 * the score recovers on clean traffic), keeps to its own origin, reaches its controls by keyboard, fits a phone
 * screen, and loads Datadog RUM (its own chunk, trace headers on the page's API calls) only when configured.
 * Screenshots go to test-artifacts/control-room/.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = resolve(__dirname, '../test-artifacts/control-room');
const KEY = TEST_API_KEYS.all;
const QUESTION = { question: 'What colour is the sky on Mars?', document: 'The sky on Mars is butterscotch by day.' };
/** Short health windows so a drill moves the score within seconds (docs/health-score.md). */
const FAST_HEALTH = {
  HEALTH_WINDOW_SHORT_MS: '10000',
  HEALTH_WINDOW_STEP_MS: '1000',
  HEALTH_INTERVAL_MS: '500',
  LEDGER_FLUSH_MS: '200',
  SIM_LATENCY_MEDIAN_MS: '40',
  SIM_LATENCY_SIGMA: '0.2',
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a JavaScript expression in the page (this project's TypeScript has no DOM types: what runs in the browser
 * is written as the browser's code, a string) and returns its value.
 */
function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}

/**
 * Waits until a JavaScript expression is truthy in the page. Polled from here: Playwright's waitForFunction with a
 * string would `eval` inside the page, which the page's Content-Security-Policy (rightly) refuses.
 */
async function untilInPage(page: Page, expression: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await inPage<unknown>(page, expression))) {
    if (Date.now() > deadline) throw new Error(`not true in the page within ${timeout} ms: ${expression}`);
    await sleep(100);
  }
}

function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Debian's Chromium is not installed at ${CHROMIUM}, so the control room's browser test cannot run: ` +
        '`apt-get install -y chromium` (.ci/run installs it when apt is available). This test never skips.',
    );
  }
}

async function launch(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'control-room-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The keyboard's path through the page: from the skip link (the first focusable element of the document), Tab
 * `presses` times; the id (or name) of each element focused, the skip link first.
 */
async function tabOrder(page: Page, presses: number): Promise<string[]> {
  await page.focus('#skip');
  const order = ['skip'];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    order.push(
      await inPage<string>(
        page,
        "(el => el ? el.id || el.getAttribute('name') || el.tagName.toLowerCase() : '')(document.activeElement)",
      ),
    );
  }
  return order;
}

/** Signs in through the form, by keyboard only. */
async function signIn(page: Page): Promise<void> {
  await page.focus('#api-key');
  await page.keyboard.type(KEY);
  await page.keyboard.press('Enter');
  await page.waitForSelector('body[data-signed-in="true"]', { timeout: 10_000 });
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? '').trim();
}

async function healthScore(page: Page): Promise<number | null> {
  const value = Number.parseFloat(await text(page, '#health-score'));
  return Number.isFinite(value) ? value : null;
}

async function noHorizontalScroll(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return inPage(page, '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })');
}

describe('control room (/ui) in headless Chromium', () => {
  let stack: TelemetryStack;
  let origin: string;

  beforeAll(async () => {
    requireChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
    await bundleControlRoom();
    stack = await startWithTelemetry({
      ...TEST_AUTH_ENV,
      ...FAST_HEALTH,
      // The router at work, so its panel has decisions to show.
      ROUTER_CANDIDATES: 'gemini-2.5-flash-lite,gemini-2.5-flash,gemini-2.5-pro',
    });
    origin = new URL(stack.service.url).origin;
    // A few real calls, so every panel has something to show.
    for (let i = 0; i < 6; i++) {
      const res = await post(`${stack.service.url}/qa`, QUESTION, xApiKey('all'));
      expect(res.status).toBe(200);
      await res.text();
    }
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('serves the page and its files under the security headers, without inline script, and nothing else', async () => {
    const page = await fetch(`${stack.service.url}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    // Nor inline style: the page has none, and holds a key (the app's policy allows them for Swagger UI at /docs).
    expect(page.headers.get('content-security-policy')).toMatch(/style-src 'self'(;|$)/);
    expect(page.headers.get('content-security-policy')).not.toMatch(/unsafe/);
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).toContain('&quot;rum&quot;:null');
    // A trailing slash, as people type it, is sent to the page.
    const slash = await fetch(`${stack.service.url}/ui/`, { redirect: 'manual' });
    expect(slash.status).toBe(301);
    expect(slash.headers.get('location')).toBe('/ui');
    const js = await fetch(`${stack.service.url}/ui/assets/main.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${stack.service.url}/ui/assets/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${stack.service.url}/ui/assets/index.html`)).status).toBe(404);
    // The data behind the page needs a key: only the page itself is open (like /docs).
    expect((await fetch(`${stack.service.url}/insights/health-score`)).status).toBe(401);
  });

  it('signs in, shows every panel, runs a drill (score falls, incident queues, score recovers), same origin only', async () => {
    const browser = await launch();
    const requests: Request[] = [];
    const problems: string[] = [];
    try {
      const page = await browser.context.newPage();
      page.on('request', (r) => requests.push(r));
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        // The wrong key tried below (401), optional endpoints absent (404) and the drill's provider errors (502) log as
        // failed loads.
        if (m.type() === 'error' && !/status of (401|404|502)/.test(m.text())) problems.push(`console: ${m.text()}`);
      });
      await page.goto(`${stack.service.url}/ui`);
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.title()).toMatch(/Control room/);

      // Keyboard: the skip link, then the key field and the sign-in button.
      const beforeLogin = await tabOrder(page, 2);
      expect(beforeLogin).toEqual(['skip', 'api-key', 'login-submit']);
      expect(await page.getAttribute('#api-key', 'type')).toBe('password');
      expect(await text(page, 'label[for="api-key"]')).toBe('API key');

      // A wrong key is refused, in words.
      await page.fill('#api-key', 'not-a-key-00000000000000000000000000000000');
      await page.keyboard.press('Enter');
      await untilInPage(page, "document.getElementById('login-error').textContent !== ''");
      expect(await text(page, '#login-error')).toMatch(/refused/);
      // A key pasted with an invisible character (the browser cannot send it) is said to be so, not "did not answer".
      await page.fill('#api-key', `${KEY}\u200b`);
      await page.keyboard.press('Enter');
      await untilInPage(page, "/U\\+200B/.test(document.getElementById('login-error').textContent)");
      expect(await text(page, '#login-error')).toMatch(/no key has \(U\+200B, at character \d+/);
      await page.fill('#api-key', '');

      await signIn(page);
      expect(await inPage(page, 'sessionStorage.length')).toBe(1);

      // Every panel renders real values.
      for (const panel of ['health', 'traffic', 'spend', 'incidents', 'recommendations']) {
        await page.waitForSelector(`#panel-${panel}[data-state="ok"]`, { timeout: 15_000 });
      }
      expect(await healthScore(page)).toBeGreaterThan(0);
      expect(['healthy', 'degraded', 'critical']).toContain(await page.getAttribute('#panel-health', 'data-status'));
      expect(
        await inPage(page, "[...document.querySelectorAll('#health-components li')].map((li) => li.dataset.component)"),
      ).toEqual(['performance', 'reliability', 'cost', 'quality', 'security']);
      // The windows are named by their length as the server has them (HEALTH_WINDOW_SHORT_MS is 10 s here).
      expect(await text(page, '#health-window')).toMatch(/^Last 10 seconds \(\d+ calls\), to /);
      expect(await text(page, '#quality-now-label')).toBe('Now (last 10 seconds)');
      expect(await text(page, '#traffic-title')).toBe('Traffic, last hour');
      expect(Number((await text(page, '#traffic-requests')).replace(/,/g, ''))).toBeGreaterThanOrEqual(6);
      expect(await text(page, '#traffic-p95')).toMatch(/\d+ ms|\d s/);
      expect(await text(page, '#traffic-p50')).toMatch(/\d+ ms|\d s/);
      expect(await text(page, '#traffic-errors')).toMatch(/%/);
      expect(await text(page, '#spend-today')).toMatch(/^\$\d/);
      expect(await text(page, '#forecast-method')).toMatch(/^(model|baseline|none): /);
      expect(await text(page, '#incidents-pending')).toMatch(/^\d+$/);
      expect(await text(page, '#incidents-open')).toMatch(/^\d+$/);
      expect(await inPage(page, "document.querySelectorAll('#recommendations li').length")).toBeGreaterThan(0);
      expect(await text(page, '#quality-now')).not.toBe('—');
      await page.waitForSelector('#panel-router[data-state="ok"]');
      expect(await text(page, '#router-status')).toMatch(/^Mode rules; candidates gemini-2.5-flash-lite, /);
      // The calls sent above were routed: each row is a model, its decisions and why.
      expect(await inPage(page, "document.querySelectorAll('#router-models tr').length")).toBeGreaterThan(0);
      expect(await text(page, '#router-models')).toMatch(/gemini-2\.5-flash-lite.*rules \d+/s);
      await untilInPage(page, "document.querySelectorAll('#chart-traffic canvas').length > 0");
      await page.screenshot({ path: join(ARTIFACTS, 'desktop-1280x800.png'), fullPage: true });

      // Keyboard: after signing in, Tab reaches the drill's controls.
      const afterLogin = await tabOrder(page, 12);
      expect(afterLogin.slice(0, 2)).toEqual(['skip', 'logout']);
      expect(afterLogin).toEqual(
        expect.arrayContaining([
          'provider_errors',
          'simulate_bad_prompt',
          'simulate_retry',
          'drill-duration',
          'drill-start',
        ]),
      );
      expect(afterLogin.indexOf('drill-start')).toBeGreaterThan(afterLogin.indexOf('simulate_bad_prompt'));

      // The drill: faulty calls until the score turns critical, an incident from it waits in the outbox.
      const pendingBefore = Number(await text(page, '#incidents-pending'));
      await page.focus('#drill-start');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#panel-drill[data-running="true"]');
      // The simulated provider's fault injection is on for everyone's calls while the drill runs.
      const faults = (await (
        await fetch(`${stack.service.url}/llm/drills/faults`, { headers: xApiKey('all') })
      ).json()) as {
        active: boolean;
        error_rate: number;
      };
      expect(faults).toMatchObject({ active: true, error_rate: 0.5 });
      expect(await text(page, '#drill-provider-status')).toMatch(/^Provider faults on for \d+ s/);
      await page.waitForSelector('#panel-health[data-status="critical"]', { timeout: 30_000 });
      expect(await healthScore(page)).toBeLessThan(60);
      await untilInPage(
        page,
        `Number(document.getElementById('incidents-pending').textContent) > ${pendingBefore}`,
        15_000,
      );
      expect(await text(page, '#incidents-list')).toMatch(/health score critical/i);
      await page.screenshot({ path: join(ARTIFACTS, 'drill-critical-1280x800.png'), fullPage: true });
      await page.click('#drill-stop');
      await page.waitForSelector('#panel-drill[data-running="false"]', { timeout: 10_000 });
      expect(await text(page, '#drill-status')).toMatch(/^Drill ended: \d+ faulty calls sent/);
      await untilInPage(
        page,
        "document.getElementById('drill-provider-status').textContent === 'Provider faults off.'",
      );
      const after = await fetch(`${stack.service.url}/llm/drills/faults`, { headers: xApiKey('all') });
      expect(((await after.json()) as { active: boolean }).active).toBe(false);

      // Recovery: clean traffic pushes the drill's calls out of the (10 s) window.
      let stop = false;
      const clean = (async () => {
        while (!stop) {
          const res = await post(`${stack.service.url}/qa`, QUESTION, xApiKey('all'));
          await res.text();
          await sleep(100);
        }
      })();
      try {
        await page.waitForSelector('#panel-health[data-status="healthy"]', { timeout: 45_000 });
      } finally {
        stop = true;
        await clean;
      }
      expect(await healthScore(page)).toBeGreaterThanOrEqual(80);
      await page.screenshot({ path: join(ARTIFACTS, 'recovered-1280x800.png'), fullPage: true });

      // Every request the page made went to the app's own origin; the RUM chunk was never fetched.
      const foreign = requests
        .map((r) => r.url())
        .filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin);
      expect(foreign).toEqual([]);
      expect(requests.some((r) => /\/ui\/assets\/rum-/.test(r.url()))).toBe(false);
      expect(await inPage(page, "'DD_RUM' in window")).toBe(false);
      const apiCalls = requests.filter((r) => r.url().endsWith('/insights/health-score?window=5m'));
      expect(apiCalls.at(-1)?.headers()['x-api-key']).toBe(KEY);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);

  it('lists every open incident when a monitor keeps alerting (its re-alerts are the newest outbox rows)', async () => {
    const alert = (monitor: string) =>
      post(
        `${stack.service.url}/incidents/create`,
        { monitor_name: monitor, alert_message: 'still failing', runbook: 'Check the provider.' },
        xApiKey('all'),
      );
    expect((await alert('Control room older incident')).ok).toBe(true); // 202 while it waits in the outbox
    // One incident, then nine re-alerts within the dedupe window: nine update rows newer than every create.
    for (let i = 0; i < 10; i++) expect((await alert('Control room flapping monitor')).ok).toBe(true);
    const browser = await launch();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${stack.service.url}/ui`);
      await page.waitForSelector('body[data-ready="true"]');
      await signIn(page);
      await page.waitForSelector('#panel-incidents[data-state="ok"]', { timeout: 15_000 });
      const list = await text(page, '#incidents-list');
      expect(list).toContain('Control room flapping monitor - still failing');
      expect(list).toContain('Control room older incident - still failing');
      expect(list).toMatch(/10 alerts/);
      // Each incident once, not once per row.
      expect(list.split('Control room flapping monitor').length - 1).toBe(1);
      // The server's count of open incidents, beside the outbox rows still pending (11 rows, 2 incidents).
      expect(Number(await text(page, '#incidents-open'))).toBeGreaterThanOrEqual(2);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('keeps the live panels refreshing while a report hangs, gives the hung call up in its panel, one loop a sign-in', async () => {
    // The page's clock is Playwright's (timers and AbortSignal.timeout), stepped a second at a time: counts of calls
    // per refresh, not durations, and no wait on the machine's speed. The network is real.
    const browser = await launch();
    try {
      const page = await browser.context.newPage();
      await page.clock.install();
      const held: Route[] = [];
      let holdInsights = true;
      let holdHealth = false;
      const inFlight = new Set<Request>();
      let healthCalls = 0;
      page.on('request', (r) => {
        inFlight.add(r);
        if (r.url().endsWith('/insights/health-score?window=5m')) healthCalls += 1;
      });
      page.on('requestfinished', (r) => inFlight.delete(r));
      page.on('requestfailed', (r) => inFlight.delete(r));
      // A report that never answers (a stalled proxy, a wedged replica): POST /insights is held, unanswered.
      await page.route('**/insights', (route) =>
        route.request().method() === 'POST' && holdInsights ? void held.push(route) : route.continue(),
      );
      await page.route('**/insights/health-score?window=5m', (route) => {
        if (!holdHealth) return route.continue();
        holdHealth = false;
        held.push(route);
      });
      const heldRequests = (): Set<Request> => new Set(held.map((r) => r.request()));
      /** No call of the page out but the held ones, for a moment. */
      const settled = async (): Promise<void> => {
        const deadline = Date.now() + 15_000;
        for (let quiet = 0; quiet < 3;) {
          if (Date.now() > deadline) throw new Error('the page kept calls out for 15 s');
          const out = [...inFlight].filter((r) => !heldRequests().has(r));
          quiet = out.length === 0 ? quiet + 1 : 0;
          await sleep(100);
        }
      };
      /** Moves the page's clock on by `seconds`, a second at a time, letting each refresh's calls finish. */
      const advance = async (seconds: number): Promise<void> => {
        for (let i = 0; i < seconds; i++) {
          await page.clock.runFor(1000);
          await settled();
        }
      };

      await page.goto(`${stack.service.url}/ui`);
      await page.waitForSelector('body[data-ready="true"]');
      await page.clock.pauseAt((await inPage<number>(page, 'Date.now()')) + 1000);
      await signIn(page);
      await page.waitForSelector('#panel-health[data-state="ok"]', { timeout: 15_000 });
      await settled();
      expect(held.length).toBe(1); // the first refresh's POST /insights, unanswered

      // 20 s of the page's time: four refreshes of the live panels while the report still hangs...
      const before = healthCalls;
      await advance(20);
      expect(healthCalls - before).toBeGreaterThanOrEqual(3);
      // ...and the hung call given up after 15 s, in its own panel, in words.
      expect(await page.getAttribute('#panel-recommendations', 'data-state')).toBe('error');
      expect(await text(page, '#panel-recommendations .panel-error')).toMatch(/did not answer within 15 s/);

      // Signing out and in again while a refresh is out leaves one refresh loop, not two.
      holdInsights = false;
      holdHealth = true;
      for (let i = 0; i < 10 && holdHealth; i++) await advance(1);
      expect(holdHealth).toBe(false); // a refresh's health call is held
      await page.click('#logout');
      await signIn(page);
      await settled();
      // The old session's call answers 2 s into the new one (a loop it restarted would run 2 s apart from this one).
      await advance(2);
      await held.at(-1)!.continue();
      await settled();
      const afterSignIn = healthCalls;
      await advance(20);
      // One loop: a call every 5 s (4, or 5 with the boundary); two loops would make about 8.
      expect(healthCalls - afterSignIn).toBeGreaterThanOrEqual(3);
      expect(healthCalls - afterSignIn).toBeLessThanOrEqual(5);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it("ends the provider faults its drill turned on when the page signs out, and never ends someone else's", async () => {
    const faults = async (): Promise<{ active: boolean; error_rate: number }> =>
      (await (await fetch(`${stack.service.url}/llm/drills/faults`, { headers: xApiKey('all') })).json()) as {
        active: boolean;
        error_rate: number;
      };
    const browser = await launch();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${stack.service.url}/ui`);
      await page.waitForSelector('body[data-ready="true"]');
      await signIn(page);
      await page.selectOption('#drill-duration', '30');
      await page.uncheck('#drill-incident');

      // An operator's own fault drill (a shell, another tab); the page's drill here injects no provider faults.
      const theirs = await post(
        `${stack.service.url}/llm/drills/faults`,
        { error_rate: 0.1, duration_s: 120 },
        xApiKey('all'),
      );
      expect(theirs.status).toBe(200);
      await page.uncheck('input[name="provider_errors"]');
      await page.click('#drill-start');
      await page.waitForSelector('#panel-drill[data-running="true"]');
      await page.click('#drill-stop');
      await page.waitForSelector('#panel-drill[data-running="false"]', { timeout: 10_000 });
      expect(await faults()).toMatchObject({ active: true, error_rate: 0.1 });
      expect(
        (await fetch(`${stack.service.url}/llm/drills/faults`, { method: 'DELETE', headers: xApiKey('all') })).status,
      ).toBe(200);

      // The page's own provider faults, then signing out mid-drill: they end with the session, not 30 s later.
      await page.check('input[name="provider_errors"]');
      await page.click('#drill-start');
      await untilInPage(
        page,
        "/^Provider faults on/.test(document.getElementById('drill-provider-status').textContent)",
      );
      expect((await faults()).active).toBe(true);
      await page.click('#logout');
      const deadline = Date.now() + 10_000;
      while ((await faults()).active) {
        if (Date.now() > deadline) throw new Error('the provider faults stayed on after the page signed out');
        await sleep(100);
      }
    } finally {
      await browser.close();
      await fetch(`${stack.service.url}/llm/drills/faults`, { method: 'DELETE', headers: xApiKey('all') });
    }
  }, 60_000);

  it('fits a phone screen (390x844) without horizontal scrolling, signed out and signed in', async () => {
    const browser = await launch();
    try {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${stack.service.url}/ui`);
      await page.waitForSelector('body[data-ready="true"]');
      let width = await noHorizontalScroll(page);
      expect(width.scrollWidth).toBeLessThanOrEqual(width.innerWidth);
      await signIn(page);
      for (const panel of ['health', 'traffic', 'spend', 'incidents', 'recommendations']) {
        await page.waitForSelector(`#panel-${panel}[data-state="ok"]`, { timeout: 15_000 });
      }
      await untilInPage(page, "document.querySelectorAll('#chart-traffic canvas').length > 0");
      width = await noHorizontalScroll(page);
      expect(width.scrollWidth).toBeLessThanOrEqual(width.innerWidth);
      await page.screenshot({ path: join(ARTIFACTS, 'phone-390x844.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe('control room with Datadog RUM configured', () => {
  const RUM = {
    DD_RUM_APPLICATION_ID: 'a1b2c3d4-0000-4000-8000-000000000020',
    DD_RUM_CLIENT_TOKEN: 'pub0000test0000token0000',
  };
  // DD_SITE keeps its default (the SDK accepts Datadog's sites only): the browser's routes abort every request that
  // is not to the app, the RUM intake's included, so nothing leaves the machine.
  let stack: TelemetryStack;

  beforeAll(async () => {
    requireChromium();
    if (!existsSync(resolve(__dirname, '../dist/libs/control-room/web/main.js'))) await bundleControlRoom();
    stack = await startWithTelemetry({
      ...TEST_AUTH_ENV,
      ...RUM,
      DD_SERVICE: 'llm-cp-rum',
      DD_ENV: 'e2e',
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('loads the RUM chunk, initialised with the backend service, env and version, and links API calls to traces', async () => {
    const page = await fetch(`${stack.service.url}/ui`);
    const policy = page.headers.get('content-security-policy') ?? '';
    const site = loadConfig({ envFile: false, env: {} }).datadog.site;
    expect(policy).toContain(`connect-src 'self' ${rumIntakeOrigin(site)};`);
    expect(policy).toContain("script-src 'self'");
    const origin = new URL(stack.service.url).origin;
    const browser = await launch();
    const requests: Request[] = [];
    try {
      const tab = await browser.context.newPage();
      // Nothing leaves the machine: whatever is not the app is aborted (the RUM intake).
      await tab.route('**/*', (route) =>
        new URL(route.request().url()).origin === origin ? route.continue() : route.abort(),
      );
      tab.on('request', (r) => requests.push(r));
      await tab.goto(`${stack.service.url}/ui`);
      await untilInPage(tab, 'window.DD_RUM && window.DD_RUM.getInitConfiguration() !== undefined', 15_000);
      const init = await inPage<Record<string, unknown>>(tab, 'window.DD_RUM.getInitConfiguration()');
      expect(init).toMatchObject({
        service: 'llm-cp-rum',
        env: 'e2e',
        applicationId: RUM.DD_RUM_APPLICATION_ID,
        site,
      });
      expect(typeof init.version).toBe('string');
      expect(requests.some((r) => /\/ui\/assets\/rum-[\w-]+\.js$/.test(r.url()))).toBe(true);

      await signIn(tab);
      await tab.waitForSelector('#panel-health[data-state="ok"]', { timeout: 15_000 });
      const call = requests.find(
        (r) => r.url().endsWith('/insights/health-score?window=5m') && r.headers()['x-datadog-trace-id'],
      );
      expect(call).toBeDefined();
      const headers = call!.headers();
      expect(headers['x-datadog-origin']).toBe('rum');
      expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      // The backend's span of that request is in the same trace.
      const traceId = BigInt(headers['x-datadog-trace-id']!);
      const span = await stack.agent.waitForSpan((s) => {
        try {
          return BigInt(String(s.trace_id)) === traceId;
        } catch {
          return false;
        }
      }, 15_000);
      expect(span.resource).toMatch(/health-score/);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
