/**
 * The join address for the projector: the QR code as large as the screen allows, the address
 * and class code in type readable from the back row, and the message to the class while one is up
 * (it changes as the teacher posts). Full screen when the browser allows it; Esc (or the button)
 * leaves.
 */
import type { JoinAddress } from '../api/types.js';
import { h, replaceChildren } from '../dom.js';
import type { LiveState } from '../live/live-state.js';
import { breakableUrl, svgDataUrl } from './join-address.js';

export function openProjector(address: JoinAddress, code: string | null, live: LiveState): void {
  const message = h('p', { class: 'projector-announcement', attrs: { 'aria-live': 'polite' } });
  const showMessage = () => {
    message.hidden = !live.announcement;
    replaceChildren(message, live.announcement?.message ?? '');
  };
  const unsubscribe = live.subscribe((change) => {
    if (change.kind === 'announcement') showMessage();
  });
  showMessage();
  const leave = h('button', { type: 'button', class: 'secondary projector-leave' }, 'Leave projector view');
  const view = h(
    'dialog',
    { class: 'projector', attrs: { 'aria-label': `Join address for the projector: ${address.url}` } },
    h('img', { class: 'projector-qr', src: svgDataUrl(address.qrSvg), alt: `QR code that opens ${address.url}` }),
    h(
      'div',
      { class: 'projector-text' },
      h('p', { class: 'projector-lead' }, 'Scan the code, or type this address:'),
      h('p', { class: 'projector-url' }, breakableUrl(address.url)),
      code ? h('p', { class: 'projector-code' }, 'Class code: ', h('strong', null, code)) : null,
      message,
      h('p', { class: 'hint' }, 'Press Esc to leave.'),
      leave,
    ),
  );
  document.body.append(view);
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;

  // The browser's first Esc leaves full screen without reaching the page; leaving full screen by
  // any means closes the view too, so one Esc is enough.
  const onFullscreenChange = () => {
    if (!document.fullscreenElement) view.close();
  };
  view.addEventListener('close', () => {
    unsubscribe();
    document.removeEventListener('fullscreenchange', onFullscreenChange);
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    view.remove();
    opener?.focus();
  });
  leave.onclick = () => view.close();

  view.showModal();
  leave.focus();
  document.documentElement
    .requestFullscreen?.()
    .then(() => document.addEventListener('fullscreenchange', onFullscreenChange))
    // Refused (an iframe, a browser setting): the view still fills the window.
    .catch(() => undefined);
}
