import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { placeholdersOf, renderJsonTemplate } from '../resource-template';

export const SYNTHETIC_KINDS = ['health', 'qa'] as const;
export type SyntheticKind = (typeof SYNTHETIC_KINDS)[number];
export const NOTEBOOK_TEMPLATES = ['root-cause', 'cost'] as const;
export type NotebookTemplate = (typeof NOTEBOOK_TEMPLATES)[number];

/** The values a synthetic test file takes: `[[service]]`, `[[env]]`, `[[notify]]`, `[[public_base_url]]`. */
export interface SyntheticValues {
  service: string;
  env: string;
  /** The notification handles, space-separated (`@slack-llm-oncall @pagerduty-llm`). */
  notify: string;
  publicBaseUrl: string;
}

/** The values a notebook file takes: `[[service]]`, `[[env]]`, `[[title]]` (its name), `[[context]]` (markdown). */
export interface NotebookValues {
  service: string;
  env: string;
  title: string;
  context: string;
}

const SYNTHETIC_PLACEHOLDERS = ['service', 'env', 'notify', 'public_base_url'] as const;
const NOTEBOOK_PLACEHOLDERS = ['service', 'env', 'title', 'context'] as const;

/** A value placed inside a JSON string of a payload file: escaped, so a quote or a newline stays text. */
export function jsonStringContent(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

function escapeAll(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, jsonStringContent(value)]));
}

/**
 * The synthetic test and notebook payloads of `/datadog/*`, one Datadog API payload per file under `datadog/`
 * (`synthetics/health.json`, `synthetics/qa.json`, `notebooks/root-cause.json`, `notebooks/cost.json`), read once
 * at boot from the working directory. A missing file, an unknown placeholder or a file that is not a JSON object
 * once rendered stops the boot with the file named, instead of a 500 on the first request. Every value is
 * JSON-escaped before it is placed, so a title with quotes or newlines cannot change the payload's structure.
 */
export class IntegrationTemplates {
  private constructor(
    private readonly synthetics: ReadonlyMap<SyntheticKind, string>,
    private readonly notebooks: ReadonlyMap<NotebookTemplate, string>,
  ) {}

  /** Reads and checks every file under `dir` (the repository's `datadog/`; default: `./datadog`). */
  static load(dir = resolve(process.cwd(), 'datadog')): IntegrationTemplates {
    const read = (file: string, allowed: readonly string[]): string => {
      const path = join(dir, file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new Error(
          `Datadog payload file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): ` +
            'the service reads datadog/ from its working directory; start it from the repository root',
          { cause: error },
        );
      }
      const unknown = placeholdersOf(text).filter((p) => !allowed.includes(p));
      if (unknown.length > 0)
        throw new Error(`${path}: unknown placeholders ${[...new Set(unknown)].map((p) => `[[${p}]]`).join(', ')}`);
      const sample = Object.fromEntries(allowed.map((name) => [name, 'x']));
      let parsed: unknown;
      try {
        parsed = renderJsonTemplate(text, sample);
      } catch (error) {
        throw new Error(`${path} is not valid JSON once rendered: ${String(error)}`, { cause: error });
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new Error(`${path} is not a JSON object`);
      }
      return text;
    };
    return new IntegrationTemplates(
      new Map(SYNTHETIC_KINDS.map((kind) => [kind, read(`synthetics/${kind}.json`, SYNTHETIC_PLACEHOLDERS)])),
      new Map(NOTEBOOK_TEMPLATES.map((name) => [name, read(`notebooks/${name}.json`, NOTEBOOK_PLACEHOLDERS)])),
    );
  }

  /** The `SyntheticsAPITest` payload of `kind`, in wire format. */
  synthetic(kind: SyntheticKind, values: SyntheticValues): Record<string, unknown> {
    return renderJsonTemplate<Record<string, unknown>>(
      this.synthetics.get(kind)!,
      escapeAll({
        service: values.service,
        env: values.env,
        notify: values.notify,
        public_base_url: values.publicBaseUrl,
      }),
    );
  }

  /** The `NotebookCreateRequest` payload of `template`, in wire format. */
  notebook(template: NotebookTemplate, values: NotebookValues): Record<string, unknown> {
    return renderJsonTemplate<Record<string, unknown>>(this.notebooks.get(template)!, escapeAll({ ...values }));
  }
}
