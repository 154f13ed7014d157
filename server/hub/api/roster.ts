/**
 * Lectern extensions for putting a class on the hub: a roster's preview and import
 * (`/lectern/roster/…`), and printable login cards whose QR codes are one-time login links
 * (`/lectern/login-cards`, `/lectern/users/{name}/login-links`). The dashboard's import and
 * `lectern users import` use these.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { DEFAULT_LINK_HOURS, issueCardCode, issueLoginLink, MAX_LINK_HOURS } from '../../auth/login-links.js';
import { resetPassword } from '../../auth/password-changes.js';
import { RosterImport, type ImportedAccount } from '../../auth/roster-import.js';
import { MAX_ROSTER_COLUMNS, ROSTER_COLUMNS } from '../../auth/roster-columns.js';
import { MAX_ROSTER_ROWS } from '../../auth/roster.js';
import { normalizeUsername } from '../../auth/usernames.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { openEventStream } from '../event-stream.js';
import { HttpError, httpErrorOf } from '../http-error.js';
import { requireScope } from './authorize.js';
import { route, type ApiParams, type ApiRoute } from './route.js';
import { parseBody } from './validation.js';

const rosterBody = z.strictObject({
  text: z.string(),
  /** The teacher's reading of the file, from the preview's column choices; guessed when left out. */
  header: z.boolean().optional(),
  columns: z.array(z.enum(ROSTER_COLUMNS).nullable()).max(MAX_ROSTER_COLUMNS, `A roster has at most ${MAX_ROSTER_COLUMNS} columns`).optional(),
});
const cardsBody = z.strictObject({
  users: z.array(z.string()).min(1, 'Name at least one user').max(MAX_ROSTER_ROWS, `At most ${MAX_ROSTER_ROWS} cards at once`),
  expiresInHours: z.number().positive().max(MAX_LINK_HOURS, `Login links can last at most 30 days (${MAX_LINK_HOURS} hours)`).optional(),
  /** Stop the cards printed before for these students (lost cards). Without it they keep working. */
  revokeEarlier: z.boolean().optional(),
  /** Give these students new temporary passwords, printed on the cards; their old ones, and old cards, stop working. */
  newPasswords: z.boolean().optional(),
});

/** What a successful import answers (and the stream's last event carries). */
interface ImportAnswer {
  imported: { name: string; displayName: string | null; group: string | null; password?: string }[];
  cardsUrl: string;
  expiresAt: string;
}

export function rosterRoutes(ctx: HubContext): ApiRoute[] {
  /** The roster in the body, read and checked; text that cannot be read at all is a 400. */
  const readRoster = (body: unknown): RosterImport => {
    const { text, ...reading } = parseBody(rosterBody, body);
    return new RosterImport(
      { db: ctx.db, users: ctx.users, groups: ctx.groups, hasher: ctx.hasher, minPasswordLength: ctx.config.auth.minPasswordLength },
      text,
      reading,
    );
  };

  /**
   * New login links for `cards` (beside their earlier ones, unless `revokeEarlier`), and a sheet to
   * print them from. The links are on disk before the sheet's URL is handed out.
   */
  const makeSheet = async (cards: { user: UserRecord; password: string | null }[], hours: number, revokeEarlier = false) => {
    const linksExpireAt = new Date(ctx.clock() + hours * 3_600_000);
    const printed = ctx.db.transaction(() => {
      ctx.loginLinks.deleteExpiredOrUsed();
      return cards.map(({ user, password }) => ({
        name: user.name,
        displayName: user.displayName,
        password,
        linkSecret: issueLoginLink(ctx.loginLinks, user.id, linksExpireAt, revokeEarlier),
        code: issueCardCode(ctx.loginLinks, user.id, linksExpireAt),
      }));
    });
    await ctx.db.commit();
    const id = ctx.cardSheets.add({ cards: printed, linksExpireAt });
    return { cardsUrl: ctx.urls.hub(`cards/${id}`), expiresAt: linksExpireAt.toISOString() };
  };

  const answer = async (accounts: ImportedAccount[]): Promise<ImportAnswer> => ({
    imported: accounts.map(({ user, group, password, generated }) => ({
      name: user.name,
      displayName: user.displayName,
      group,
      // Shown this once; the teacher's own passwords from the file they already have.
      ...(generated ? { password } : {}),
    })),
    ...(await makeSheet(accounts, DEFAULT_LINK_HOURS)),
  });


  return [
    route('post', '/lectern/roster/preview', (req, res) => {
      requireScope(res, ['admin:users']);
      res.json(readRoster(req.body).preview);
    }),

    route('post', '/lectern/roster/import', async (req, res) => {
      requireScope(res, ['admin:users']);
      const roster = readRoster(req.body);
      const refusal = roster.refusal();
      if (refusal) throw refusal;
      if (wantsEventStream(req)) {
        await streamImport(ctx, res, roster, answer);
        return;
      }
      const accounts = await roster.run();
      announceImport(ctx, accounts);
      res.status(201).json(await answer(accounts));
    }),

    route('post', '/lectern/login-cards', async (req, res) => {
      requireScope(res, ['admin:users']);
      const body = parseBody(cardsBody, req.body);
      const users = [...new Set(body.users.map(normalizeUsername))].map((name) => {
        const user = ctx.users.find(name);
        if (!user) throw new HttpError(400, `No such user: ${name}`);
        // A card lies on a desk: a QR code that logs in as a teacher must not be one of them.
        if (user.admin) throw new HttpError(400, `${name} is an admin: login cards are for students. Admins log in with their password.`);
        if (!user.approved) throw new HttpError(400, `${name} is waiting for approval: approve the account first, then print the card.`);
        return user;
      });
      const cards: { user: UserRecord; password: string | null }[] = [];
      for (const user of users) {
        // A new password ends the old one, its sessions and its cards (auth/password-changes.ts).
        const password = body.newPasswords ? await resetPassword(ctx, user, true, ctx.config.auth.minPasswordLength) : null;
        cards.push({ user, password });
      }
      const sheet = await makeSheet(cards, body.expiresInHours ?? DEFAULT_LINK_HOURS, body.revokeEarlier ?? false);
      ctx.log.info(`login cards made for ${users.length} user(s)`, { newPasswords: body.newPasswords ?? false, revokeEarlier: body.revokeEarlier ?? false });
      res.status(201).json(sheet);
    }),

    route('delete', '/lectern/users/{name}/login-links', async (req, res) => {
      requireScope(res, ['admin:users'], { user: req.params.name });
      const user = ctx.users.find(req.params.name);
      if (!user) throw new HttpError(404, `No such user: ${req.params.name}`);
      const revoked = ctx.loginLinks.deleteAllOf(user.id);
      await ctx.db.commit();
      if (revoked > 0) ctx.log.info(`${user.name}'s login link revoked`);
      res.status(204).type('text/plain').end();
    }),
  ];
}

function wantsEventStream(req: Request<ApiParams>): boolean {
  return req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream';
}

/**
 * The import as server-sent events: `{progress, total}` while passwords are hashed (the slow
 * part: a class of 30 takes a few seconds), then one last event with `done: true` and either the
 * 201 answer or the refusal (`status`, `message`, and the rows when a name was taken meanwhile).
 */
async function streamImport(
  ctx: HubContext,
  res: Response,
  roster: RosterImport,
  answer: (accounts: ImportedAccount[]) => Promise<ImportAnswer>,
): Promise<void> {
  // The import goes on if the page is closed: the accounts are made all the same.
  const stream = openEventStream<Record<string, unknown>>(res);
  const send = stream.send;
  send({ progress: 0, total: roster.preview.valid });
  const fail = (status: number, message: string, error: unknown) => {
    ctx.log.error('roster import failed', { error: error instanceof Error ? error : String(error) });
    send({ status, message, done: true });
    stream.end();
  };
  let accounts: ImportedAccount[];
  try {
    accounts = await roster.run((done, total) => send({ progress: done, total }));
  } catch (error) {
    // Refused as the JSON answer would be (http-error.ts), as the stream's last event.
    const refused = httpErrorOf(error);
    if (refused) {
      send({ status: refused.status, message: refused.message, ...refused.details, done: true });
      stream.end();
    } else {
      fail(500, 'Internal server error: nothing was imported. The hub log has the details.', error);
    }
    return;
  }
  announceImport(ctx, accounts);
  let last: ImportAnswer;
  try {
    last = await answer(accounts);
  } catch (error) {
    fail(500, `The ${accounts.length} accounts were created, but their login cards could not be made. Reset their passwords, then print cards for them.`, error);
    return;
  }
  if (res.closed) {
    ctx.log.warn(
      `the roster import finished after its page was closed: the generated passwords of ${accounts.length} new accounts were never shown. Reset their passwords, or print cards for them.`,
    );
  }
  send({ ...last, done: true });
  stream.end();
}

/** Tells the log and the teacher's dashboard (whose lists of users and groups are now stale). */
function announceImport(ctx: HubContext, accounts: ImportedAccount[]): void {
  const groups = new Set(accounts.map((account) => account.group).filter((group) => group !== null));
  ctx.log.info(`roster imported: ${accounts.length} account(s)${groups.size > 0 ? ` in ${[...groups].join(', ')}` : ''}`);
  ctx.events.usersChanged();
}
