/** The change-password page (see password.ts). */
import type { HubUrls } from '../urls.js';
import { html } from '../../html/html.js';
import { layout } from './templates.js';

export interface ChangePasswordView {
  user: string;
  next: string | null;
  /** The teacher reset the password: say why the student is here, and that they cannot skip it. */
  mustChange: boolean;
  /** Whether the form asks for the current password (see `asksCurrentPassword`). */
  askCurrent: boolean;
  minLength: number;
  error?: string;
}

export function changePasswordPage(urls: HubUrls, view: ChangePasswordView): string {
  const page = urls.hub('change-password');
  const action = view.next ? `${page}?next=${encodeURIComponent(view.next)}` : page;
  return layout({
    title: 'Change password',
    urls,
    user: view.user,
    body: html`<form class="card" method="post" action="${action}">
  <h1>${view.mustChange ? 'Choose your own password' : 'Change password'}</h1>
  ${
    view.mustChange
      ? html`<p>Your teacher gave you a temporary password. Before you go on, choose a new one that only you
  know${view.askCurrent ? ': type the temporary password, then your new password twice' : ', and type it twice'}.</p>`
      : ''
  }
  ${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
  <input type="hidden" name="username" autocomplete="username" value="${view.user}">
  ${
    view.askCurrent
      ? html`<label for="current">${view.mustChange ? 'Temporary password' : 'Current password'}</label>
  <input id="current" name="current" type="password" autocomplete="current-password" required autofocus>`
      : ''
  }
  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" minlength="${view.minLength}" required
    ${view.askCurrent ? '' : 'autofocus'}>
  <label for="confirm">New password again</label>
  <input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="${view.minLength}" required>
  <p>At least ${view.minLength} characters. A few words you will remember are easier to type than a jumble of symbols.</p>
  <div class="actions">
    <button type="submit">Save new password</button>
    ${view.mustChange ? '' : html`<a href="${view.next ?? urls.hub('home')}">Cancel</a>`}
  </div>
</form>`,
  });
}
