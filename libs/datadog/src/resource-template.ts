/**
 * The files under `datadog/` are Datadog API payloads with placeholders `[[name]]` or `[[name:arg]]`, filled in
 * when they are applied or used: `[[service]]`, `[[env]]`, `[[notify]]` (the DATADOG_NOTIFY_HANDLES), and
 * references resolved by the apply tool (`[[monitor_id:<file key>]]`, `[[slo_id:<file key>]]`, ...). The square
 * brackets keep them apart from Datadog's own `{{value}}` / `{{#is_alert}}` message variables, which pass through.
 */
export const TEMPLATE_PLACEHOLDER = /\[\[([a-z_]+)(?::([\w.-]+))?\]\]/g;

/** Resolves one placeholder: `name` and its optional `arg`; `undefined` leaves it unresolved (an error). */
export type TemplateResolver = (name: string, arg: string | undefined) => string | undefined;

/** A placeholder that no resolver knew: the file is wrong, or a reference is not created yet. */
export class UnresolvedPlaceholderError extends Error {
  constructor(readonly placeholders: readonly string[]) {
    super(`unresolved placeholders: ${placeholders.join(', ')}`);
    this.name = 'UnresolvedPlaceholderError';
  }
}

/** Fills every placeholder of a text; throws `UnresolvedPlaceholderError` naming the ones left. */
export function renderTemplate(text: string, resolve: TemplateResolver | Readonly<Record<string, string>>): string {
  const lookup: TemplateResolver = typeof resolve === 'function' ? resolve : (name) => resolve[name];
  const missing = new Set<string>();
  const rendered = text.replace(TEMPLATE_PLACEHOLDER, (whole, name: string, arg: string | undefined) => {
    const value = lookup(name, arg);
    if (value === undefined) {
      missing.add(whole);
      return whole;
    }
    return value;
  });
  if (missing.size > 0) throw new UnresolvedPlaceholderError([...missing]);
  return rendered;
}

/** Every placeholder of a text, as `name` or `name:arg`. */
export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(TEMPLATE_PLACEHOLDER)].map(([, name, arg]) => (arg ? `${name}:${arg}` : name!));
}

/** Renders a JSON payload's text and parses it; a value placed inside a JSON string must not need escaping. */
export function renderJsonTemplate<T = unknown>(
  text: string,
  resolve: TemplateResolver | Readonly<Record<string, string>>,
): T {
  return JSON.parse(renderTemplate(text, resolve)) as T;
}
