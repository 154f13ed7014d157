/**
 * The pages of joining a class with its join code: the sign-up form, and the page a student sees
 * while their new account waits for the teacher's approval. Students fill these in on phones, so
 * every field says what it wants and asks the phone's keyboard for the right case.
 */
import type { HubUrls } from '../urls.js';
import { html } from './html.js';
import { layout } from './templates.js';

export interface JoinForm {
  next: string | null;
  error?: string;
  /** What the student typed, shown again after a mistake (never the passwords). */
  code?: string;
  username?: string;
  displayName?: string;
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
  <input id="password" name="password" type="password" autocomplete="new-password" required>
  <label for="password2">Password again</label>
  <input id="password2" name="password2" type="password" autocomplete="new-password" required>
  <button type="submit">Join</button>
  <p>Already have an account? <a href="${form.next ? urls.login(form.next) : urls.login()}">Log in</a></p>
</form>`,
  });
}

/** For a sign-up awaiting approval: right after joining, and at each login until the teacher approves it. */
export function awaitingApprovalPage(urls: HubUrls, view: { user: string; next: string | null }): string {
  return layout({
    title: 'Waiting for your teacher',
    urls,
    body: html`<section class="card" id="awaiting-approval">
  <h1>Waiting for your teacher to let you in</h1>
  <p>Your account <strong>${view.user}</strong> is ready, but your teacher has not let it in yet.
  Tell your teacher you have joined. Once they have let you in, log in with your username and password.</p>
  <p class="actions"><a class="button" href="${view.next ? urls.login(view.next) : urls.login()}">Log in</a></p>
</section>`,
  });
}
