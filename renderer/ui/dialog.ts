/**
 * Modal dialogs on the native `<dialog>` element: it keeps keyboard focus inside, closes on Esc
 * and hides the page behind it from screen readers, which a home-made overlay would have to
 * re-implement. Focus returns to whatever opened the dialog.
 */
import { h, uniqueId, type Child } from '../dom.js';

export interface Modal {
  element: HTMLDialogElement;
  /** Where the dialog's content goes, below its title. */
  body: HTMLElement;
  close(): void;
  /** Resolves once the dialog has closed, by a button, Esc or `close()`. */
  closed: Promise<void>;
}

export function openModal(title: string, ...content: Child[]): Modal {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const heading = h('h2', { id: uniqueId('dialog-title') }, title);
  const body = h('div', { class: 'dialog-body' }, ...content);
  const element = h('dialog', { class: 'dialog', attrs: { 'aria-labelledby': heading.id } }, heading, body);
  document.body.append(element);
  const closed = new Promise<void>((resolve) => {
    element.addEventListener('close', () => {
      element.remove();
      opener?.focus();
      resolve();
    });
  });
  element.showModal();
  return { element, body, close: () => element.close(), closed };
}

export interface ConfirmOptions {
  title: string;
  message: Child | Child[];
  /** The button's label, a verb saying what happens: "Delete account". */
  confirm: string;
  /** Red button, and the safe choice (Cancel) focused first. */
  danger?: boolean;
}

/** Asks before doing something; true when the teacher confirmed. */
export function confirmAction({ title, message, confirm, danger = false }: ConfirmOptions): Promise<boolean> {
  let confirmed = false;
  const cancelButton = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const confirmButton = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirm);
  const modal = openModal(
    title,
    ...(Array.isArray(message) ? message : [message]).map((part) => (typeof part === 'string' ? h('p', null, part) : part)),
    h('div', { class: 'actions' }, cancelButton, confirmButton),
  );
  cancelButton.onclick = () => modal.close();
  confirmButton.onclick = () => {
    confirmed = true;
    modal.close();
  };
  (danger ? cancelButton : confirmButton).focus();
  return modal.closed.then(() => confirmed);
}

/** A dialog with a message and one button to close it. */
export function inform(title: string, ...content: Child[]): Promise<void> {
  const done = h('button', { type: 'button', class: 'primary' }, 'Done');
  const modal = openModal(title, ...content, h('div', { class: 'actions' }, done));
  done.onclick = () => modal.close();
  done.focus();
  return modal.closed;
}
