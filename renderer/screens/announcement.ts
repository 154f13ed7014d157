/**
 * The dashboard's message to the class: the teacher writes a few lines (and, if they like, where
 * "Open" should lead), posts it, and every student sees it at the top of their hub pages; the
 * projector view shows it too. One message at a time: posting replaces it, "Take down" removes it.
 * What is shown comes from the event stream, so two teachers' dashboards agree.
 */
import { errorMessage } from '../api/client.js';
import type { Announcement } from '../api/types.js';
import { h, replaceChildren, type Child } from '../dom.js';
import { notify, notifyError } from '../ui/notices.js';
import type { ScreenContext } from './screen.js';

/** The longest message the hub takes (server/hub/api/announcement.ts). */
const MAX_LENGTH = 500;

export function announcementCard(ctx: ScreenContext): HTMLElement {
  const current = h('div', { class: 'announcement-current', attrs: { 'aria-live': 'polite' } });
  const message = h('textarea', { id: 'announcement-message', required: true, rows: 3, maxLength: MAX_LENGTH });
  const link = h('input', { id: 'announcement-link', type: 'text', autocomplete: 'off', placeholder: 'https://… or /hub/…' });
  const post = h('button', { type: 'submit', class: 'primary' }, 'Post to the class');
  const form = h(
    'form',
    { class: 'announcement-form' },
    h('label', { htmlFor: 'announcement-message' }, 'Message'),
    message,
    h('label', { htmlFor: 'announcement-link' }, 'Link (optional)'),
    link,
    h('div', { class: 'actions' }, post),
  );
  form.onsubmit = async (event) => {
    event.preventDefault();
    post.disabled = true;
    try {
      await ctx.api.put('/lectern/announcement', { message: message.value, link: link.value.trim() || null });
      notify('Posted: students see it at the top of their pages.');
      message.value = '';
      link.value = '';
    } catch (error) {
      notifyError(`The message was not posted: ${errorMessage(error)}`);
    } finally {
      post.disabled = false;
    }
  };

  const takeDown = async () => {
    try {
      await ctx.api.delete('/lectern/announcement');
      notify('The message is taken down.');
    } catch (error) {
      notifyError(`The message is still up: ${errorMessage(error)}`);
    }
  };
  const render = () => replaceChildren(current, currentView(ctx.live.announcement, takeDown));
  ctx.live.subscribe((change) => {
    if (change.kind === 'announcement') render();
  });
  render();

  return h(
    'section',
    { class: 'card announcement-card', attrs: { 'aria-labelledby': 'announcement-title' } },
    h('h2', { id: 'announcement-title' }, 'Message to the class'),
    current,
    form,
  );
}

function currentView(announcement: Announcement | null | undefined, takeDown: () => Promise<void>): Child[] {
  if (announcement === undefined) return [];
  if (announcement === null) return [h('p', { class: 'hint' }, 'No message is up. Students see one at the top of their pages, and the projector view shows it.')];
  return [
    h('p', { class: 'announcement-text' }, announcement.message),
    announcement.link ? h('p', { class: 'hint' }, 'Open leads to ', h('strong', null, announcement.link)) : null,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => void takeDown() }, 'Take down')),
  ];
}
