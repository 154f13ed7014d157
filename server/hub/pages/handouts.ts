/**
 * A student's handouts, at `<base>hub/handouts`: each with its folder, when it is due, and a "Hand
 * in" button, one tap on a phone. Handing in is a plain form (no script), sent only from this page:
 * another site cannot hand in for a student.
 */
import express, { type Request, type Response, type Router } from 'express';
import { HandoutError } from '../../handouts/handouts.js';
import type { HandinRecord, HandoutRecord } from '../../store/handouts.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { identityOf } from '../identity.js';
import { fromOtherSite } from '../../net/same-origin.js';
import type { HubUrls } from '../urls.js';
import { html } from '../../html/html.js';
import { layout } from './templates.js';

interface StudentHandout {
  handout: HandoutRecord;
  folder: string;
  handedIn: HandinRecord | null;
}

export function handoutPages(ctx: HubContext): Router {
  const router = express.Router();
  const { urls } = ctx;
  const form = express.urlencoded({ extended: false, limit: '1kb' });
  const student = (req: Request, res: Response): UserRecord | undefined => {
    const user = identityOf(res)?.user;
    if (!user) res.redirect(302, urls.login(req.originalUrl));
    return user;
  };
  const show = (res: Response, user: UserRecord, message: { text: string; error: boolean } | null, status = 200) =>
    res
      .status(status)
      .type('html')
      .send(handoutsPage(urls, { user: user.name, handouts: ctx.handouts.forStudent(user), message, now: Date.now() }));

  router.get('/handouts', (req, res) => {
    const user = student(req, res);
    if (!user) return;
    const handed = ctx.handouts.find(Number(req.query['handed-in']));
    show(res, user, handed ? { text: `${handed.name} is handed in.`, error: false } : null);
  });

  router.post('/handouts/:id/hand-in', form, async (req: Request<{ id: string }>, res) => {
    if (fromOtherSite(req, ctx.secure)) throw new HttpError(403, 'Hand in from this hub’s own page.');
    const user = student(req, res);
    if (!user) return;
    const handout = ctx.handouts.find(Number(req.params.id));
    if (!handout) throw new HttpError(404, 'No such handout.');
    try {
      await ctx.handouts.handIn(handout, user);
    } catch (error) {
      if (!(error instanceof HandoutError)) throw error;
      show(res, user, { text: error.message, error: true }, error.status);
      return;
    }
    // Back to the list, so reloading the page does not hand in again.
    res.redirect(303, `${urls.hub('handouts')}?handed-in=${handout.id}`);
  });

  return router;
}

function handoutsPage(
  urls: HubUrls,
  view: { user: string; handouts: StudentHandout[]; message: { text: string; error: boolean } | null; now: number },
): string {
  const items = view.handouts.map(({ handout, folder, handedIn }) => {
    const overdue = handout.dueAt !== null && view.now > Date.parse(handout.dueAt);
    const closed = overdue && handout.late === 'refuse';
    return html`<li class="handout">
  <h2>${handout.name}</h2>
  <p>In your folder as <strong>${folder}</strong>.${handout.dueAt ? html` Due <time datetime="${handout.dueAt}">${readableTime(handout.dueAt)}</time>.` : ''}</p>
  ${handedIn ? html`<p>Handed in <time datetime="${handedIn.at}">${readableTime(handedIn.at)}</time>${handedIn.late ? ' (late)' : ''}. You can hand in again: the last one counts.</p>` : ''}
  ${
    closed
      ? html`<p class="error">Hand-ins are closed.</p>`
      : html`<form method="post" action="${urls.hub(`handouts/${handout.id}/hand-in`)}">
    <button type="submit">${overdue ? 'Hand in (late)' : 'Hand in'}</button>
  </form>`
  }
</li>`;
  });
  return layout({
    title: 'My handouts',
    urls,
    user: view.user,
    body: html`<section class="card">
  <h1>My handouts</h1>
  ${view.message ? html`<p class="${view.message.error ? 'error' : 'success'}" role="${view.message.error ? 'alert' : 'status'}">${view.message.text}</p>` : ''}
  ${view.handouts.length === 0 ? html`<p>Your teacher has not handed anything out yet.</p>` : html`<ul class="handouts">${items}</ul>`}
  <p><a href="${urls.hub('home')}">Back to my server</a></p>
</section>`,
  });
}

/** A time as people read it, in UTC: the page has no script to show the phone's own time zone. */
function readableTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
