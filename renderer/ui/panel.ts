/**
 * A part of a screen filled from the API, with the three outcomes every such part has: its
 * content, the hub's error message with a way to try again, or — when this hub has no such
 * endpoint — a plain "not available" that leaves the rest of the screen working.
 */
import { ApiError, errorMessage } from '../api/client.js';
import { h, replaceChildren, type Child } from '../dom.js';

/**
 * Shows "Loading…" in `container`, then what `build` returns. `what` names the part for the
 * teacher: "The join address", "Settings".
 */
export async function fillPanel(container: HTMLElement, what: string, build: () => Promise<Child | Child[]>): Promise<boolean> {
  container.setAttribute('aria-busy', 'true');
  if (!container.hasChildNodes()) replaceChildren(container, h('p', { class: 'loading' }, 'Loading…'));
  try {
    const content = await build();
    replaceChildren(container, ...(Array.isArray(content) ? content : [content]));
    return true;
  } catch (error) {
    replaceChildren(container, problemView(what, error, () => void fillPanel(container, what, build)));
    return false;
  } finally {
    container.removeAttribute('aria-busy');
  }
}

export function problemView(what: string, error: unknown, retry: () => void): HTMLElement {
  if (error instanceof ApiError && error.endpointMissing) {
    return h('p', { class: 'unavailable' }, `${what} is not available in this version of Lectern.`);
  }
  return h(
    'div',
    { class: 'problem', attrs: { role: 'alert' } },
    h('p', null, `${what} could not be loaded: ${errorMessage(error)}`),
    h('button', { type: 'button', class: 'secondary', onclick: retry }, 'Try again'),
  );
}
