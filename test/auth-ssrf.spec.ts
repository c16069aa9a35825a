import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { getMetadataStorage, IsOptional, IsString, IsUrl } from 'class-validator';

/**
 * No endpoint fetches a URL taken from a request (docs/security.md, "Outbound requests"): the request DTOs have no
 * URL-like field unless it is checked against an allow-list, and every file that can open an outbound connection
 * is listed here with where its destination comes from (configuration only). A new URL field or a new outbound
 * call site fails this test until it is reviewed and listed.
 */
const ROOT = resolve(__dirname, '..');

/**
 * Request fields that are (or are named like) a URL or a host, each with why it cannot make the service fetch it:
 * the allow-list that bounds it, or that it is never fetched. None is fetched today.
 */
const URL_FIELDS_REVIEWED: Record<string, string> = {
  'DatadogWebhookDto.link':
    'never read: the incident links are built from DATADOG_APP_URL and the monitor id (incident-content.ts)',
  'DatadogWebhookDto.hostname':
    "Datadog's $HOSTNAME, accepted with its other variables and never read: nothing connects to it",
};

/**
 * Every file that imports a network client at run time (undici, node:http(s), pg, the Datadog and Google SDKs,
 * hot-shots, dd-trace) or calls fetch, and where its destination comes from. The adapters that only use the SDK
 * types get their client from one of these (the Datadog SDK from sdk-configuration.ts, pools from the factories).
 */
const OUTBOUND: Record<string, string> = {
  'libs/control-room/web/api.ts': 'the control room page in the browser: relative paths of its own origin only',
  'libs/datadog/src/adapters/sdk-configuration.ts': 'Datadog API base server from config.datadog.apiUrl',
  'libs/incidents/src/outbox/incident-outbox.factory.ts': 'PostgreSQL at DATABASE_URL (config)',
  'libs/insights/src/optimization/store/recommendation-store.factory.ts': 'PostgreSQL at DATABASE_URL (config)',
  'libs/ledger/src/ledger.module.ts': 'PostgreSQL at DATABASE_URL (config)',
  'libs/llm/src/adapters/google-genai-chat.ts': 'Vertex AI / Gemini API (SDK endpoints, LLM_BASE_URL from config)',
  'libs/llm/src/adapters/google-genai-llm.adapter.ts': 'Vertex AI / Gemini API (LLM_BASE_URL from config)',
  'libs/llm/src/adapters/openai-compatible-llm.adapter.ts': 'LLM_BASE_URL / OPENAI_BASE_URL (config), one pool',
  'libs/ml/src/embeddings/genai-embeddings.adapter.ts': 'Vertex AI / Gemini embeddings (LLM_BASE_URL, config)',
  'libs/ml/src/embeddings/openai-embeddings.adapter.ts': 'LLM_BASE_URL / OPENAI_BASE_URL embeddings (config)',
  'libs/ml/src/pii/pii-detector.ts': 'no I/O: imports isIP from node:net',
  'libs/security/src/access-policy.ts':
    'no I/O: imports isIP from node:net (an anonymous caller counted by its IPv6 /64)',
  'libs/telemetry/src/metrics/statsd-metrics.adapter.ts': 'DogStatsD at DD_AGENT_HOST:DD_DOGSTATSD_PORT (config)',
  'libs/telemetry/src/tracing/dd-tracer.adapter.ts': 'Datadog agent /info at DD_TRACE_AGENT_URL (config)',
};

const NETWORK_IMPORT =
  /^import(?!\s+type\b)[^;]*?from\s+'(undici|node:https?|https?|pg|@datadog\/datadog-api-client|@google\/genai|hot-shots|dd-trace|node:dgram|node:net|node:tls)'|import\('(undici|pg|@datadog\/datadog-api-client|@google\/genai|hot-shots|dd-trace)'\)|\bfetch\(/m;

const URL_LIKE_NAME =
  /(^|_)(url|uri|href|link|host|hostname|endpoint|callback|webhook|domain|origin)s?$|(Url|Uri|Href|Host|Endpoint|Callback|Webhook)s?$/;
const URL_VALIDATORS = new Set(['isUrl', 'isURL', 'isFQDN', 'isIP', 'isMagnetURI', 'isDataURI']);

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : filesUnder(path, keep);
    return keep(name) ? [path] : [];
  });
}

type Constructor = new (...args: never[]) => unknown;

/** The URL-like fields of the classes that carry class-validator rules (the request DTOs; answers carry none). */
function urlFieldsOf(classes: readonly Constructor[]): string[] {
  const found: string[] = [];
  for (const target of classes) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(target, '', true, false);
    if (metadata.length === 0) continue;
    const byProperty = new Map<string, string[]>();
    for (const m of metadata) {
      byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m.name ?? m.type]);
    }
    for (const [property, rules] of byProperty) {
      if (URL_LIKE_NAME.test(property) || rules.some((r) => URL_VALIDATORS.has(r))) {
        found.push(`${target.name}.${property}`);
      }
    }
  }
  return found.sort();
}

describe('no caller-supplied URL is fetched (SSRF)', () => {
  it('no request DTO has a URL-like field without an allow-list', () => {
    const dtoFiles = [
      ...filesUnder(join(ROOT, 'libs'), (n) => n.endsWith('.dto.ts')),
      ...filesUnder(join(ROOT, 'apps'), (n) => n.endsWith('.dto.ts')),
    ];
    expect(dtoFiles.length).toBeGreaterThan(5);
    const classes = dtoFiles.flatMap((file) =>
      // Loaded for their decorators' metadata: every DTO file, found at run time.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      Object.values(require(file) as Record<string, unknown>).filter(
        (v): v is Constructor => typeof v === 'function' && /^class\s/.test(Function.prototype.toString.call(v)),
      ),
    );
    const unlisted = urlFieldsOf(classes).filter((field) => !(field in URL_FIELDS_REVIEWED));
    // EnvDto is the configuration (its URLs are the operator's), not a request.
    expect(unlisted.filter((f) => !f.startsWith('EnvDto.'))).toEqual([]);
  });

  it('would catch one (the check itself works)', () => {
    class PlantedDto {
      @IsUrl() callback!: string;
      @IsOptional() @IsString() target_url?: string;
      @IsString() question!: string;
    }
    expect(urlFieldsOf([PlantedDto])).toEqual(['PlantedDto.callback', 'PlantedDto.target_url']);
  });

  it('every file that opens outbound connections is listed with where its destination comes from', () => {
    const sources = [
      ...filesUnder(join(ROOT, 'libs'), (n) => n.endsWith('.ts') && !/\.(e2e-)?spec\.ts$/.test(n)),
      ...filesUnder(join(ROOT, 'apps'), (n) => n.endsWith('.ts') && !/\.(e2e-)?spec\.ts$/.test(n)),
    ];
    const outbound = sources
      .filter((file) => NETWORK_IMPORT.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file))
      .sort();
    expect(outbound).toEqual(Object.keys(OUTBOUND).sort());
  });
});
