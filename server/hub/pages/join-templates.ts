/**
 * The pages of joining a class with its join code: the sign-up form, and the page a student sees
 * while their new account waits for the teacher's approval. Students fill these in on phones, so
 * every field says what it wants and asks the phone's keyboard for the right case.
 */
import type { HubUrls } from '../urls.js';
import { html } from '../../html/html.js';
import { layout } from './templates.js';

export interface JoinForm {
  next: string | null;
  /** The shortest password the hub accepts, said before the student types one. */
  minPasswordLength: number;
  error?: string;
  /** What the student typed, shown again after a mistake elsewhere than in the password. */
  code?: string;
  username?: string;
  displayName?: string;
  password?: string;
}

export function joinPage(urls: HubUrls, form: JoinForm): string {
  const action = form.next ? `${urls.hub('join')}?next=${encodeURIComponent(form.next)}` : urls.hub('join');
  return layout({
    title: 'Join the class',
    urls,
    body: html`<form class="card" method="post" action="${action}">
  <h1>Join the class</h1>
  <p>Type the class code your teacher shows, then choose a username and a password.</p>
  ${form.error ? html`<p class="error" role="alert">${form.error}</p>` : ''}
  <label for="code">Class code</label>
  <input id="code" name="code" autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false"
    required autofocus value="${form.code ?? ''}">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" autocapitalize="none" autocorrect="off"
    spellcheck="false" required value="${form.username ?? ''}" aria-describedby="username-help">
  <small id="username-help">Letters, digits, ".", "_" and "-". You will log in with it.</small>
  <label for="displayName">Your name (optional)</label>
  <input id="displayName" name="displayName" autocomplete="name" value="${form.displayName ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required
    minlength="${String(form.minPasswordLength)}" aria-describedby="password-help" value="${form.password ?? ''}">
  <small id="password-help">At least ${String(form.minPasswordLength)} characters. A few words you will remember are easier to type than symbols.</small>
  <label for="password2">Password again</label>
  <input id="password2" name="password2" type="password" autocomplete="new-password" required
    minlength="${String(form.minPasswordLength)}" value="${form.password ?? ''}">
  <button type="submit">Join</button>
  <p>Already have an account? <a href="${form.next ? urls.login(form.next) : urls.login()}">Log in</a></p>
</form>`,
  });
}

/** How often the waiting page looks whether the teacher has let the student in. */
const WAITING_REFRESH_SECONDS = 4;

/**
 * For a sign-up awaiting approval: right after joining, and at each login until the teacher
 * approves it. It reloads `refreshUrl` every few seconds, without script, and moves on to the
 * student's server once they are let in.
 */
export function awaitingApprovalPage(urls: HubUrls, view: { user: string; next: string | null; refreshUrl: string }): string {
  return layout({
    title: 'Waiting for your teacher',
    urls,
    refresh: { seconds: WAITING_REFRESH_SECONDS, url: view.refreshUrl },
    body: html`<section class="card" id="awaiting-approval">
  <h1>Waiting for your teacher to let you in</h1>
  <p>Your account <strong>${view.user}</strong> is ready, but your teacher has not let it in yet.
  Tell your teacher you have joined. Keep this page open: it goes on by itself once you are let in.</p>
  <p class="hint">On another device, log in with your username and password once you are let in.</p>
</section>`,
  });
}

/** For a waiting sign-up the teacher removed instead of letting it in. */
export function turnedAwayPage(urls: HubUrls, view: { joinUrl: string | null }): string {
  return layout({
    title: 'Not let in',
    urls,
    body: html`<section class="card" id="turned-away">
  <h1>Your teacher did not let this sign-up in</h1>
  <p>The account was removed. Check with your teacher${view.joinUrl ? ', then join again' : ''}.</p>
  ${view.joinUrl ? html`<p class="actions"><a class="button" href="${view.joinUrl}">Join again</a></p>` : ''}
</section>`,
  });
}
