/**
 * Building DOM without a framework: `h('button', { type: 'button', onclick }, 'Stop')`.
 *
 * Text always goes in as text nodes, never as HTML, so a student's name or a server's error
 * message cannot inject markup. Handlers are element properties, not inline `on…` attributes, and
 * styling is by class, never by `style` attribute: both keep the page within the hub's
 * Content-Security-Policy (`default-src 'self'`).
 */

export type Child = Node | string | number | null | undefined | false;

export type Props<E extends HTMLElement> = Partial<Omit<E, 'style' | 'children' | 'classList' | 'dataset' | 'className'>> & {
  /** Space-separated class names; falsy entries of an array are skipped. */
  class?: string | (string | false | null | undefined)[];
  /** Attributes set as written: `aria-describedby`, `for` on custom uses, `data-*`. */
  attrs?: Record<string, string | number | boolean | null | undefined>;
};

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props<HTMLElementTagNameMap[K]> | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined) continue;
      if (key === 'class') {
        element.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value);
      } else if (key === 'attrs') {
        for (const [name, attr] of Object.entries(value as Record<string, unknown>)) {
          if (attr === false || attr === null || attr === undefined) continue;
          element.setAttribute(name, attr === true ? '' : String(attr));
        }
      } else {
        (element as unknown as Record<string, unknown>)[key] = value;
      }
    }
  }
  append(element, children);
  return element;
}

/** Appends children, skipping null, undefined and false, so conditional parts read inline. */
function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `parent` with `children`. */
export function replaceChildren(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let nextId = 0;

/** A page-unique id, for tying labels and descriptions to their fields. */
export function uniqueId(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}
