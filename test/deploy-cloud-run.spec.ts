/**
 * deploy/cloud-run/service.yaml (Knative serving v1), checked offline: the app and the serverless-init sidecar, the
 * port, every variable known (configuration variables for the app, the sidecar's own listed below), secrets only as
 * Secret Manager references, the configuration loading from the manifest's environment, telemetry on the sidecar's
 * loopback ports, the probes, and every `${PLACEHOLDER}` documented in docs/deploy.md.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { envVariableNames, loadConfig, SECRET_VARIABLES } from '@app/config';

const ROOT = resolve(__dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const MANIFEST = 'deploy/cloud-run/service.yaml';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface Probe {
  httpGet?: { path: string; port: number };
  tcpSocket?: { port: number };
  periodSeconds?: number;
  failureThreshold?: number;
}

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
}

interface KnativeService {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    template: {
      metadata: { annotations: Record<string, string> };
      spec: { containers: Container[]; serviceAccountName?: string };
    };
  };
}

/**
 * What the sidecar reads (Datadog's serverless-init): the key and site to ship with, the unified service tags, the port
 * of its health endpoint (its startup probe), and its EVP proxy, which carries LLM Observability events, kept on.
 */
const SIDECAR_VARIABLES = [
  'DD_API_KEY',
  'DD_SITE',
  'DD_SERVICE',
  'DD_ENV',
  'DD_VERSION',
  'DD_HEALTH_PORT',
  'DD_EVP_PROXY_CONFIG_ENABLED',
];
const SIDECAR_SECRETS = new Set(['DD_API_KEY']);
/** Set by Cloud Run itself; a manifest that sets one is refused. */
const RESERVED = ['PORT', 'K_SERVICE', 'K_REVISION', 'K_CONFIGURATION'];

/** Things that look like credentials: a Datadog key, a Google API key, an OpenAI-style key, a password in a URL. */
const SECRET_LOOKING = [
  /\b[0-9a-f]{32}\b/i,
  /AIza[0-9A-Za-z_-]{30,}/,
  /\bsk-[A-Za-z0-9_-]{16,}/,
  /:\/\/[^\s/:@]+:[^\s/@]+@/,
];

const text = read(MANIFEST);
const document = parseDocument(text);
const service = document.toJS() as KnativeService;
const containers = service.spec.template.spec.containers;
const app = containers.find((c) => c.ports !== undefined)!;
const sidecar = containers.find((c) => c !== app)!;
const placeholders = [...new Set([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]!))];

/** A value for each placeholder, as a deployment would give (docs/deploy.md). */
const SAMPLES: Record<string, string> = {
  PROJECT_ID: 'my-project-1',
  REGION: 'europe-west1',
  IMAGE: 'europe-west1-docker.pkg.dev/my-project-1/control-plane/control-plane:0.1.0',
  VERSION: '0.1.0',
  DD_ENV: 'production',
  DD_SITE: 'datadoghq.eu',
  SERVICE_ACCOUNT: 'control-plane@my-project-1.iam.gserviceaccount.com',
  CLOUDSQL_INSTANCE: 'my-project-1:europe-west1:control-plane',
  PUBLIC_BASE_URL: 'https://control-plane-abc123-ew.a.run.app',
};

/** The manifest after `envsubst`, with sample values, and the secrets Cloud Run would mount from Secret Manager. */
function resolvedEnv(container: Container): Record<string, string> {
  const sample = (value: string): string =>
    value.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, name: string) => {
      const replacement = SAMPLES[name];
      if (replacement === undefined) throw new Error(`no sample value for \${${name}}`);
      return replacement;
    });
  const secrets: Record<string, string> = {
    DATABASE_URL: 'postgres://control_plane:pw@/control_plane?host=/cloudsql/p:r:i',
    INCIDENTS_WEBHOOK_SECRET: 'w'.repeat(24),
    API_KEYS: `deploy:invoke+read:${createHash('sha256').update('a key').digest('hex')}`,
  };
  return Object.fromEntries(
    (container.env ?? []).map((e) => [
      e.name,
      e.value !== undefined ? sample(e.value) : (secrets[e.name] ?? 'x'.repeat(32)),
    ]),
  );
}

describe('Cloud Run service manifest', () => {
  it('parses as a Knative serving v1 Service with the app and the serverless-init sidecar', () => {
    expect(document.errors).toEqual([]);
    expect(service).toMatchObject({ apiVersion: 'serving.knative.dev/v1', kind: 'Service' });
    expect(containers).toHaveLength(2);
    expect(app.name).toBe('control-plane');
    expect(sidecar.image).toMatch(/^gcr\.io\/datadoghq\/serverless-init:/);
    expect(sidecar.image).not.toMatch(/:latest$/);
    expect(sidecar.ports).toBeUndefined();
  });

  it('serves on the port the app listens on, on every interface, and sets no variable Cloud Run reserves', () => {
    expect(app.ports).toEqual([{ name: 'http1', containerPort: 3000 }]);
    const names = (app.env ?? []).map((e) => e.name);
    expect(names.filter((n) => RESERVED.includes(n))).toEqual([]);
    expect(app.env).toContainEqual({ name: 'HOST', value: '0.0.0.0' });
    // Cloud Run sets PORT to containerPort; the configuration then listens there.
    const config = loadConfig({ envFile: false, env: { ...resolvedEnv(app), PORT: '3000' } });
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: app.ports![0]!.containerPort });
  });

  it('sets only known variables: configuration variables in the app, the sidecar’s own in the sidecar', () => {
    const known = new Set(envVariableNames());
    for (const container of containers) {
      const names = (container.env ?? []).map((e) => e.name);
      expect(new Set(names).size).toBe(names.length);
    }
    expect((app.env ?? []).map((e) => e.name).filter((n) => !known.has(n))).toEqual([]);
    expect((sidecar.env ?? []).map((e) => e.name).filter((n) => !SIDECAR_VARIABLES.includes(n))).toEqual([]);
  });

  it('takes every secret from Secret Manager, and holds no secret value', () => {
    const check = (container: Container, secretNames: ReadonlySet<string>): void => {
      for (const variable of container.env ?? []) {
        if (secretNames.has(variable.name)) {
          expect(variable.value).toBeUndefined();
          expect(variable.valueFrom?.secretKeyRef).toEqual({ name: expect.any(String), key: expect.any(String) });
        }
        if (variable.valueFrom) expect(secretNames.has(variable.name)).toBe(true);
      }
    };
    check(app, SECRET_VARIABLES);
    check(sidecar, SIDECAR_SECRETS);
    for (const pattern of SECRET_LOOKING) expect(text).not.toMatch(pattern);
    expect(sidecar.env).toContainEqual(expect.objectContaining({ name: 'DD_API_KEY' }));
    // The matcher catches what it must.
    expect(SECRET_LOOKING.some((p) => p.test('postgres://u:hunter2@db/x'))).toBe(true);
    expect(SECRET_LOOKING.some((p) => p.test('0123456789abcdef0123456789abcdef'))).toBe(true);
  });

  it('loads the configuration, with metrics, traces and LLM Observability to the sidecar on loopback', () => {
    const config = loadConfig({ envFile: false, env: { ...resolvedEnv(app), PORT: '3000' } });
    expect(config.statsd).toMatchObject({ host: '127.0.0.1', port: 8125 });
    expect(config.tracing).toMatchObject({ enabled: true, llmobsEnabled: true, agentUrl: 'http://127.0.0.1:8126' });
    expect(config.llm.provider).toBe('vertex');
    expect(config.ledger.databaseUrl).toBeDefined();
    expect(config.datadog.configured).toBe(true);
    // Cloud Run kills an instance 10 s after SIGTERM: the grace period leaves the ledger's last flush time.
    expect(config.http.shutdownGraceMs + config.ledger.flushMs + 3000).toBeLessThanOrEqual(10_000);
    // Both containers carry the same unified service tags.
    const tags = (c: Container): Record<string, string | undefined> =>
      Object.fromEntries(
        ['DD_SERVICE', 'DD_ENV', 'DD_VERSION'].map((n) => [n, c.env?.find((e) => e.name === n)?.value]),
      );
    expect(tags(sidecar)).toEqual(tags(app));
  });

  it('probes /health/ready at start and /health for liveness; the app starts after the sidecar', () => {
    const port = app.ports![0]!.containerPort;
    expect(app.startupProbe?.httpGet).toEqual({ path: '/health/ready', port });
    expect(app.livenessProbe?.httpGet).toEqual({ path: '/health', port });
    const healthPort = Number(sidecar.env?.find((e) => e.name === 'DD_HEALTH_PORT')?.value);
    expect(sidecar.startupProbe?.tcpSocket).toEqual({ port: healthPort });
    const annotations = service.spec.template.metadata.annotations;
    expect(JSON.parse(annotations['run.googleapis.com/container-dependencies']!)).toEqual({
      [app.name]: [sidecar.name],
    });
    // CPU between requests, so the sidecar flushes and the app's timers run.
    expect(annotations['run.googleapis.com/cpu-throttling']).toBe('false');
  });

  it('documents every placeholder in docs/deploy.md', () => {
    const doc = read('docs/deploy.md');
    expect(placeholders.length).toBeGreaterThan(0);
    expect(placeholders.filter((name) => SAMPLES[name] === undefined)).toEqual([]);
    expect(placeholders.filter((name) => !doc.includes(`\${${name}}`))).toEqual([]);
  });
});
