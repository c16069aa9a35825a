/**
 * docker-compose.yml, checked offline with what `npm ci` installs (no Docker engine, no docker-compose binary): the
 * YAML is parsed (`yaml`), `${VAR:-default}` is interpolated as Compose does, and the result is validated against the
 * Compose Specification's JSON schema (shipped by the `dclint` package) with Ajv. Then the structure this project
 * needs: the app built from the Dockerfile, its environment made only of configuration variables that load, the
 * agent's features, the scale profile, and .env.example listing every variable the file reads.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Ajv from 'ajv';
import { parseDocument } from 'yaml';
import { envVariableNames, loadConfig } from '@app/config';

const ROOT = resolve(__dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

type Env = Record<string, string | undefined>;

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  command?: unknown;
  entrypoint?: unknown;
  environment?: Record<string, unknown>;
  profiles?: string[];
  depends_on?: string[] | Record<string, unknown>;
  labels?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
}

interface ComposeFile {
  services: Record<string, Service>;
  [key: string]: unknown;
}

const APP_SERVICES = ['control-plane', 'control-plane-2'];
const AGENT = 'datadog-agent';

interface Reference {
  name: string;
  /** The default after `:-` or `-`, when the reference has one. */
  fallback?: string;
}

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `$VAR`, `$$`. */
function interpolate(value: string, env: Env, references: Reference[]): string {
  return value.replace(REFERENCE, (match, braced?: string, operator?: string, argument?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare)!;
    const current = env[name];
    if (operator === ':-' || operator === '-') {
      references.push({ name, fallback: argument });
      const useDefault = operator === ':-' ? current === undefined || current === '' : current === undefined;
      return useDefault ? argument! : current!;
    }
    references.push({ name });
    if ((operator === ':?' && !current) || (operator === '?' && current === undefined))
      throw new Error(`${name}: ${argument}`);
    return current ?? '';
  });
}

function interpolateAll(node: unknown, env: Env, references: Reference[]): unknown {
  if (typeof node === 'string') return interpolate(node, env, references);
  if (Array.isArray(node)) return node.map((item) => interpolateAll(item, env, references));
  if (node !== null && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env, references)]));
  return node;
}

/** The file as Compose sees it with these variables (YAML merge keys resolved, then interpolation). */
function load(env: Env = {}): { compose: ComposeFile; references: Reference[] } {
  const document = parseDocument(read('docker-compose.yml'), { merge: true });
  if (document.errors.length > 0 || document.warnings.length > 0)
    throw new Error([...document.errors, ...document.warnings].map((e) => e.message).join('\n'));
  const references: Reference[] = [];
  const compose = interpolateAll(document.toJS({ maxAliasCount: 100 }), env, references) as ComposeFile;
  return { compose, references };
}

/** A service's environment as the process sees it: strings (Compose's numbers and booleans as text), null unset. */
function appEnvironment(service: Service): Env {
  const text = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return `${value}`;
    if (value === null || value === undefined) return undefined;
    throw new Error(`an environment value that is not a scalar: ${JSON.stringify(value)}`);
  };
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, text(v)]));
}

function dependencies(service: Service): string[] {
  const deps = service.depends_on ?? [];
  return Array.isArray(deps) ? deps : Object.keys(deps);
}

const composeSchema = JSON.parse(
  readFileSync(join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json'), 'utf8'),
) as Record<string, unknown>;
// The schema names draft-07 by an https URL Ajv does not know; the keywords are draft-07's, which Ajv speaks.
const validateCompose = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(composeSchema);

const SCALE_DATABASE_URL = 'postgres://control_plane:s3cret-pass@postgres:5432/control_plane';

describe('docker-compose.yml', () => {
  it('is a valid Compose file by the Compose Specification schema, with defaults and with the scale setup', () => {
    for (const env of [{}, { DATABASE_URL: SCALE_DATABASE_URL, DD_API_KEY: 'k'.repeat(32) }]) {
      const { compose } = load(env);
      const valid = validateCompose(compose);
      expect(validateCompose.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    }
    // The validator is live: a misspelt key fails.
    const { compose } = load();
    const broken = { ...compose, services: { ...compose.services, x: { image: 'a', enviroment: {} } } };
    expect(validateCompose(broken)).toBe(false);
  });

  it('starts the app and the agent by default; PostgreSQL and a second replica only with --profile scale', () => {
    const { services } = load().compose;
    const always = Object.keys(services).filter((name) => !services[name]!.profiles?.length);
    const scale = Object.keys(services).filter((name) => services[name]!.profiles?.includes('scale'));
    expect(always.sort()).toEqual(['control-plane', AGENT]);
    expect(scale.sort()).toEqual(['control-plane-2', 'postgres']);
    // A service that always runs may not depend on one that only the profile starts (Compose refuses that).
    for (const name of always) expect(dependencies(services[name]!).filter((d) => !always.includes(d))).toEqual([]);
    expect(dependencies(services['control-plane-2']!)).toEqual(expect.arrayContaining([AGENT, 'postgres']));
    expect(services.postgres!.image).toMatch(/^postgres:\d+/);
  });

  it('builds the app from the Dockerfile, and never mounts the checkout or installs at start', () => {
    const { services } = load().compose;
    for (const name of APP_SERVICES) {
      const service = services[name]!;
      expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
      expect(service.command).toBeUndefined();
      expect(service.entrypoint).toBeUndefined();
      for (const volume of service.volumes ?? []) expect(volume).not.toMatch(/^\.{1,2}(\/|:)/);
      // Published on the host's loopback only.
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:\d+:3000$/);
    }
  });

  it('gives the app only configuration variables, the same to every replica, and the configuration loads', () => {
    const known = new Set(envVariableNames());
    const raw = parseDocument(read('docker-compose.yml'), { merge: true }).toJS() as Record<string, unknown>;
    const anchors = Object.entries(raw).filter(([key]) => key.startsWith('x-') && key.endsWith('-env'));
    expect(anchors.length).toBeGreaterThan(0);
    for (const [, env] of anchors) expect(Object.keys(env as object).filter((k) => !known.has(k))).toEqual([]);

    const { compose } = load();
    const [first, second] = APP_SERVICES.map((name) => appEnvironment(compose.services[name]!));
    expect(Object.keys(first!).filter((k) => !known.has(k))).toEqual([]);
    expect(second).toEqual(first);

    const config = loadConfig({ envFile: false, env: first });
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 3000 });
    // The agent by its service name, for metrics, traces and LLM Observability.
    expect(config.statsd).toMatchObject({ host: AGENT, port: 8125 });
    expect(new URL(config.tracing.agentUrl).hostname).toBe(AGENT);
    expect(config.ledger.databaseUrl).toBeUndefined();
    expect(config.llm.provider).toBe('simulated');
    expect(config.datadog.configured).toBe(false);

    // Every variable the user may set in .env reaches the config and loads: a real provider, the scale profile.
    const scaled = loadConfig({
      envFile: false,
      env: appEnvironment(load({ DATABASE_URL: SCALE_DATABASE_URL }).compose.services['control-plane-2']!),
    });
    expect(new URL(scaled.ledger.databaseUrl!.reveal()).hostname).toBe('postgres');
    const vertex = load({ LLM_PROVIDER: 'vertex', GOOGLE_CLOUD_PROJECT: 'my-project-1' }).compose;
    expect(
      loadConfig({ envFile: false, env: appEnvironment(vertex.services['control-plane']!) }).llm.vertex.project,
    ).toBe('my-project-1');
  });

  it('runs the Datadog agent with APM, DogStatsD from other containers, the EVP proxy and the app’s logs', () => {
    const { services } = load({ DD_API_KEY: 'k'.repeat(32) }).compose;
    const agent = services[AGENT]!;
    expect(agent.image).toBe('datadog/agent:7');
    expect(agent.environment).toMatchObject({
      DD_API_KEY: 'k'.repeat(32),
      DD_APM_ENABLED: 'true',
      DD_APM_NON_LOCAL_TRAFFIC: 'true',
      DD_DOGSTATSD_NON_LOCAL_TRAFFIC: 'true',
      DD_EVP_PROXY_CONFIG_ENABLED: 'true',
      DD_LOGS_ENABLED: 'true',
    });
    expect(agent.volumes).toEqual(
      expect.arrayContaining(['/var/run/docker.sock:/var/run/docker.sock:ro', expect.stringMatching(/containers/)]),
    );
    for (const name of APP_SERVICES) {
      const service = services[name]!;
      const logs = JSON.parse(service.labels!['com.datadoghq.ad.logs']!) as {
        source: string;
        service: string;
        log_processing_rules?: { type: string; pattern: string; replace_placeholder: string }[];
      }[];
      expect(logs).toEqual([expect.objectContaining({ source: 'nodejs', service: service.environment!.DD_SERVICE })]);
      // A development API key the app prints on stderr (API_KEYS blank) is masked before the agent ships the line.
      const mask = logs[0]!.log_processing_rules?.find((r) => r.type === 'mask_sequences');
      const line = `  lrcp_dev_${Buffer.from('k'.repeat(32)).toString('base64url')}-_x  `;
      expect(line.replace(new RegExp(mask!.pattern, 'g'), mask!.replace_placeholder)).not.toMatch(/lrcp_dev_[\w-]{8}/);
      expect(dependencies(service)).toContain(AGENT);
    }
    // The key comes from .env, never from the file.
    const rawAgent = (parseDocument(read('docker-compose.yml')).toJS() as ComposeFile).services[AGENT]!;
    expect(rawAgent.environment!.DD_API_KEY).toMatch(/^\$\{DD_API_KEY(:-)?\}$/);
  });

  it('reads only variables that .env.example lists, with the same defaults', () => {
    const example = read('.env.example');
    const listed = new Map<string, string>();
    for (const match of example.matchAll(/^# ([A-Z][A-Z0-9_]*)=(\S*)/gm)) {
      const value = match[2]!.startsWith('#') ? '' : match[2]!;
      if (!listed.has(match[1]!)) listed.set(match[1]!, value);
    }
    const { references } = load();
    const names = [...new Set(references.map((r) => r.name))];
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((name) => !listed.has(name))).toEqual([]);
    for (const { name, fallback } of references) {
      const documented = listed.get(name);
      if (fallback && documented) expect([name, fallback]).toEqual([name, documented]);
    }
  });
});
