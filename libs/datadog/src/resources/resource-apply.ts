import type { AppConfig } from '@app/config';
import { renderJsonTemplate } from '../resource-template';
import type { DatadogResourcesPort, ResourcePayloadChecker } from './datadog-resources.port';
import { differences } from './resource-diff';
import { referenceOf, resourceId, type ResourceFile } from './resource-files';
import { nameOf, RESOURCE_KINDS } from './resource-kinds';

/** What the placeholders of the files are filled with (from config; the ids come from Datadog). */
export interface ResourceContext {
  service: string;
  env: string;
  notifyHandles: readonly string[];
  /** `[[runbook_url:<key>]]` is `<runbookBaseUrl>/<key>.md`. */
  runbookBaseUrl: string;
  publicBaseUrl?: string;
  oncallUserIds: readonly string[];
}

export function resourceContextOf(config: AppConfig): ResourceContext {
  return {
    service: config.service.name,
    env: config.service.env,
    notifyHandles: config.datadog.notifyHandles,
    runbookBaseUrl: config.datadog.runbookBaseUrl,
    publicBaseUrl: config.datadog.publicBaseUrl,
    oncallUserIds: config.datadog.oncallUserIds,
  };
}

export type PlanAction = 'create' | 'update' | 'unchanged' | 'skip' | 'error';

/** What apply did (or, in a dry run, would do) with one file. */
export interface PlanEntry {
  path: string;
  kind: ResourceFile['kind'];
  key: string;
  action: PlanAction;
  /** The resource's name once rendered. */
  name?: string;
  /** Its Datadog id, when it exists or was created. */
  id?: string;
  /** Why: the fields that differ, the pending references, the missing setting, the error. */
  detail?: string;
}

export interface ApplyOptions {
  /** Plan only: read what exists (when a port is given), write nothing. */
  dryRun: boolean;
  /** Without a port (no keys) only a dry run is possible, and every file is planned as `create`. */
  port?: DatadogResourcesPort;
  /** Checks each rendered payload against the SDK's models before anything is sent. */
  checker?: ResourcePayloadChecker;
}

/** A placeholder that cannot be filled from config: the file is skipped with this reason. */
class MissingSetting extends Error {}

/** Orders files so that each comes after the files it references; kinds in RESOURCE_KINDS order, then by key. */
export function applyOrder(files: readonly ResourceFile[]): { ordered: ResourceFile[]; cyclic: ResourceFile[] } {
  const byId = new Map(files.map((f) => [resourceId(f.kind, f.key), f]));
  const sorted = [...files].sort(
    (a, b) => RESOURCE_KINDS.indexOf(a.kind) - RESOURCE_KINDS.indexOf(b.kind) || a.key.localeCompare(b.key),
  );
  const ordered: ResourceFile[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const cyclic: ResourceFile[] = [];
  const visit = (file: ResourceFile): boolean => {
    const id = resourceId(file.kind, file.key);
    const seen = state.get(id);
    if (seen === 'done') return true;
    if (seen === 'visiting') return false;
    state.set(id, 'visiting');
    let ok = true;
    for (const ref of file.references) {
      const target = byId.get(resourceId(ref.kind, ref.key));
      if (target && !visit(target)) ok = false;
    }
    state.set(id, 'done');
    if (ok) ordered.push(file);
    else cyclic.push(file);
    return ok;
  };
  for (const file of sorted) visit(file);
  return { ordered, cyclic };
}

/**
 * Applies the payload files to Datadog in dependency order: each is rendered (service, env, handles, runbook
 * links, and the ids of the files it references), checked against the SDK's models, looked up by name, and then
 * created, updated (when a field it sets differs) or left alone. A dry run does the lookups only. A file that
 * cannot be applied (a setting missing, an error) does not stop the others; files that reference it are skipped.
 */
export async function applyResources(
  files: readonly ResourceFile[],
  context: ResourceContext,
  options: ApplyOptions,
): Promise<PlanEntry[]> {
  const { port, checker, dryRun } = options;
  if (!dryRun && !port) throw new Error('a real apply needs the Datadog API (DD_API_KEY and DD_APP_KEY)');
  const { ordered, cyclic } = applyOrder(files);
  const known = new Set(files.map((f) => resourceId(f.kind, f.key)));
  const ids = new Map<string, string>();
  /** Files created or planned for creation in a dry run: their ids are pending. */
  const pending = new Set<string>();
  const failed = new Set<string>();
  const entries: PlanEntry[] = [];
  let incidentTypeId: string | undefined;

  for (const file of cyclic) {
    entries.push({ ...where(file), action: 'error', detail: 'its references form a cycle' });
    failed.add(resourceId(file.kind, file.key));
  }

  for (const file of ordered) {
    const self = resourceId(file.kind, file.key);
    const entry: PlanEntry = { ...where(file), action: 'error' };
    entries.push(entry);
    try {
      const unknownRefs = file.references.filter((r) => !known.has(resourceId(r.kind, r.key)));
      if (unknownRefs.length > 0) {
        entry.detail = `references files that do not exist: ${unknownRefs.map((r) => resourceId(r.kind, r.key)).join(', ')}`;
        failed.add(self);
        continue;
      }
      const blocked = file.references.filter((r) => failed.has(resourceId(r.kind, r.key)));
      if (blocked.length > 0) {
        entry.action = 'skip';
        entry.detail = `needs ${blocked.map((r) => resourceId(r.kind, r.key)).join(', ')}, which was not applied`;
        failed.add(self);
        continue;
      }
      if (file.placeholders.includes('incident_type_id') && incidentTypeId === undefined && port) {
        incidentTypeId = await port.defaultIncidentTypeId();
      }
      const waiting: string[] = [];
      const payload = renderJsonTemplate<unknown>(file.text, (name, arg) => {
        const ref = referenceOf(arg ? `${name}:${arg}` : name);
        if (ref) {
          const refId = resourceId(ref.kind, ref.key);
          const id = ids.get(refId);
          if (id !== undefined && !pending.has(refId)) return id;
          waiting.push(`${name}:${arg}`);
          return `pending-${name}-${arg}`;
        }
        return fill(name, arg, file, context, incidentTypeId ?? (port ? undefined : 'pending-incident-type'));
      });
      const name = nameOf(file.kind, payload);
      entry.name = name;
      if (!name) {
        entry.detail = 'the payload has no name (name, title or data.attributes.name)';
        failed.add(self);
        continue;
      }
      const problems = checker ? await checker.check(file.kind, payload) : [];
      if (problems.length > 0) {
        entry.detail = `not a valid payload for the SDK: ${problems.join('; ')}`;
        failed.add(self);
        continue;
      }
      const existing = port ? await port.find(file.kind, name) : undefined;
      if (existing) {
        entry.id = existing.id;
        ids.set(self, existing.id);
        const diff = differences(payload, existing.comparable);
        if (diff.length === 0) {
          entry.action = 'unchanged';
          continue;
        }
        entry.action = 'update';
        entry.detail = `differs at ${summarise(diff)}${waiting.length ? `; references pending: ${waiting.join(', ')}` : ''}`;
        if (!dryRun) await port!.update(file.kind, existing.id, payload);
        continue;
      }
      entry.action = 'create';
      if (waiting.length > 0) entry.detail = `references pending: ${waiting.join(', ')}`;
      if (dryRun) {
        ids.set(self, `pending-${self}`);
        pending.add(self);
        continue;
      }
      const id = await port!.create(file.kind, payload);
      entry.id = id;
      ids.set(self, id);
    } catch (error) {
      failed.add(self);
      if (error instanceof MissingSetting) {
        entry.action = 'skip';
        entry.detail = error.message;
      } else {
        entry.action = 'error';
        entry.detail = error instanceof Error ? error.message : String(error);
      }
    }
  }
  return entries;
}

function where(file: ResourceFile): Pick<PlanEntry, 'path' | 'kind' | 'key'> {
  return { path: file.path, kind: file.kind, key: file.key };
}

function summarise(paths: string[]): string {
  return paths.length > 4 ? `${paths.slice(0, 4).join(', ')} and ${paths.length - 4} more` : paths.join(', ');
}

/** Fills a placeholder from the context; throws MissingSetting when the setting it needs is not set. */
function fill(
  name: string,
  arg: string | undefined,
  file: ResourceFile,
  context: ResourceContext,
  incidentTypeId: string | undefined,
): string | undefined {
  switch (name) {
    case 'service':
      return context.service;
    case 'env':
      return context.env;
    case 'notify':
      return context.notifyHandles.join(' ');
    case 'runbook_url':
      return arg ? `${context.runbookBaseUrl}/${arg}.md` : undefined;
    case 'public_base_url':
      if (!context.publicBaseUrl) throw new MissingSetting('set PUBLIC_BASE_URL (the target of the synthetic tests)');
      return context.publicBaseUrl;
    case 'oncall_user': {
      const index = Number(arg) - 1;
      const id = Number.isInteger(index) && index >= 0 ? context.oncallUserIds[index] : undefined;
      if (!id) throw new MissingSetting(`set DATADOG_ONCALL_USER_IDS: the rotation needs user ${arg}`);
      return id;
    }
    case 'incident_type_id':
      return incidentTypeId;
    // The notebooks are also templates of POST /datadog/notebooks/create, which fills these per request.
    case 'title':
      return file.kind === 'notebook' ? `LLM ${file.key} notebook (${context.service}, ${context.env})` : undefined;
    case 'context':
      return file.kind === 'notebook'
        ? 'Template provisioned by `npm run datadog:apply`; `POST /datadog/notebooks/create` makes a copy for an investigation.'
        : undefined;
    default:
      return undefined;
  }
}
