/** A few DOM helpers: elements are built with text content only (nothing the API sends is parsed as HTML). */

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

export function setText(id: string, text: string): void {
  byId(id).textContent = text;
}

/** Marks a panel loaded (`ok`), failed (`error`, with the reason shown in the panel) or `unavailable`. */
export function setPanelState(panel: string, state: 'ok' | 'error' | 'unavailable', message = ''): void {
  const section = byId(`panel-${panel}`);
  section.dataset.state = state;
  const note = section.querySelector<HTMLElement>('.panel-error');
  if (note) {
    note.textContent = state === 'error' ? message : '';
    note.hidden = state !== 'error';
  }
}
