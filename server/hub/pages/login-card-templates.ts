/**
 * Pages for login cards: the printable sheet, and the pages a student sees after scanning a card or
 * typing its code. (The teacher imports a class list and prints cards in the dashboard.) No inline
 * scripts or styles: the Content-Security-Policy forbids them, so behaviour is in static/cards.js
 * and login-link.js, and looks in cards.css.
 */
import type { HubUrls } from '../urls.js';
import { html, SafeHtml } from '../../html/html.js';
import { layout } from './templates.js';

/** 2 × 4 cards of 92 × 60 mm fill a page inside 10 mm margins on A4 and US Letter alike. */
const CARDS_PER_PAGE = 8;

export interface CardView {
  name: string;
  displayName: string | null;
  password: string | null;
  /** The card code, for logging in at any address once the QR code's no longer answers. */
  code: string;
  /** The QR code of the card's login link, as inline SVG. */
  qrSvg: string;
}

/**
 * The printable sheet: a page of its own (no header bar), cards in groups of eight, one group per
 * printed page, so no card is ever cut across two pages whatever the paper size.
 */
export function cardsSheet(urls: HubUrls, view: { cards: CardView[]; joinUrl: string; nameUrl: string | null; linksExpireAt: Date }): string {
  const until = view.linksExpireAt.toISOString().slice(0, 10);
  const pages: CardView[][] = [];
  for (let i = 0; i < view.cards.length; i += CARDS_PER_PAGE) pages.push(view.cards.slice(i, i + CARDS_PER_PAGE));
  const card = (entry: CardView) => html`<article class="login-card" data-name="${entry.name}">
  <div class="login-card-text">
    <p class="display-name">${entry.displayName ?? entry.name}</p>
    <dl>
      <dt>Username</dt><dd class="username">${entry.name}</dd>
      <dt>Card code</dt><dd class="card-code">${entry.code}</dd>
    </dl>
    <p class="card-code-hint">Another address on the board? Choose “I have a login card” there.</p>
  </div>
  <figure class="qr">
    ${new SafeHtml(entry.qrSvg)}
    <figcaption>Scan to log in once,<br>until <span class="date">${until}</span></figcaption>
  </figure>
  <p class="password-line"><span class="label">Password</span> <span class="password">${entry.password ?? html`<em>your password</em>`}</span></p>
  <p class="join">Go to <strong class="join-url">${view.joinUrl}</strong>${view.nameUrl ? html` or <strong class="join-url">${view.nameUrl}</strong>` : ''}</p>
</article>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Login cards · Lectern</title>
<link rel="stylesheet" href="${urls.hub('static/cards.css')}">
<script src="${urls.hub('static/cards.js')}" defer></script>
</head>
<body>
<div class="toolbar no-print">
  <button type="button" id="print-button">Print</button>
  <p>${view.cards.length} ${view.cards.length === 1 ? 'card' : 'cards'}, ${CARDS_PER_PAGE} to a page: cut along the dashed lines.
  Each QR code logs its student in once, until ${until}. Keep this page to yourself: it can show passwords.</p>
  <a href="${urls.hub('admin')}#/users">Back to the dashboard</a>
</div>
${pages.map((page) => html`<section class="sheet">${page.map(card)}</section>`)}
</body>
</html>
`.value;
}

export function cardsExpiredPage(urls: HubUrls, view: { user: string }): string {
  return layout({
    title: 'Login cards expired',
    urls,
    user: view.user,
    body: html`<section class="card">
  <h1>These login cards have expired</h1>
  <p>A sheet of login cards is kept for an hour, and not after the hub restarts, because it can show passwords.</p>
  <p>To print new cards, choose the students on the dashboard's Users screen and press <strong>Print login cards</strong>.
  Cards printed before keep working.</p>
  <p class="actions"><a class="button" href="${urls.hub('admin')}#/users">Open the Users screen</a></p>
</section>`,
  });
}

/**
 * What a scanned card opens. Opening it logs nobody in (chat apps and scanners fetch links
 * ahead of people): the form's POST does, submitted by login-link.js or by the button.
 */
export function loginLinkPage(urls: HubUrls, view: { action: string }): string {
  return layout({
    title: 'Logging in',
    urls,
    script: 'login-link.js',
    body: html`<form class="card" id="login-link-form" method="post" action="${view.action}">
  <h1>Logging you in…</h1>
  <p>If nothing happens, press the button.</p>
  <button type="submit">Log in</button>
</form>`,
  });
}

const LINK_REFUSED =
  'This login link has already been used or has expired. Log in with your name and password, or ask your teacher for a new card.';

/** `/hub/card`: where a student types the code printed on their login card. */
export function cardCodePage(urls: HubUrls, view: { action: string; error?: string; code?: string }): string {
  return layout({
    title: 'Log in with your card',
    urls,
    body: html`<form class="card" method="post" action="${view.action}">
  <h1>Log in with your login card</h1>
  <p>Type the card code printed at the bottom of your card.</p>
  ${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
  <label for="code">Card code</label>
  <input id="code" name="code" autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false"
    required autofocus placeholder="K7P2-QXM4" value="${view.code ?? ''}">
  <button type="submit">Log in</button>
  <p><a href="${urls.login()}">Log in with your username and password</a></p>
</form>`,
  });
}

export const CARD_CODE_REFUSED = 'That card code is not right, or it has been used or has expired. Check it, or log in with your username and password.';

export function loginLinkRefusedPage(urls: HubUrls): string {
  return layout({
    title: 'Login link used',
    urls,
    body: html`<section class="card">
  <h1>This card cannot log you in</h1>
  <p class="error" role="alert">${LINK_REFUSED}</p>
  <p class="actions"><a class="button" href="${urls.login()}">Log in</a></p>
</section>`,
  });
}
