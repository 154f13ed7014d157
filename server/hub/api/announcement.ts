/**
 * Lectern extension: the teacher's message to the class.
 *
 *   GET    /lectern/announcement   `{ announcement }`: the message, or null
 *   PUT    /lectern/announcement   post one (`{ message, link? }`), replacing any other
 *   DELETE /lectern/announcement   take it down
 *
 * Students see it on their hub pages (home, the progress page, a server that is not running), and
 * the projector view shows it. Needs `admin-ui`, the teacher dashboard's scope, to read or change.
 */
import { z } from 'zod';
import type { HubContext } from '../context.js';
import type { Announcement } from '../../store/settings.js';
import { requireScope } from './authorize.js';
import { route, type ApiRoute } from './route.js';
import { parseBody } from './validation.js';

export const MAX_ANNOUNCEMENT_LENGTH = 500;

const announcementBody = z.strictObject({
  message: z
    .string()
    .trim()
    .min(1, 'write a message')
    .max(MAX_ANNOUNCEMENT_LENGTH, `at most ${MAX_ANNOUNCEMENT_LENGTH} characters`)
    // Line breaks are kept; other control characters would only garble the page.
    .refine((message) => ![...message].some(isControlCharacter), 'no control characters'),
  link: z
    .string()
    .trim()
    .max(2000)
    .refine(isLink, 'a page of this hub (starting with /) or a web address (http:// or https://)')
    .nullable()
    .optional(),
});

function isControlCharacter(character: string): boolean {
  const code = character.charCodeAt(0);
  return character !== '\n' && (code < 0x20 || code === 0x7f);
}

/** A hub-relative path (not `//host`, which browsers take as another site) or an http(s) address. */
function isLink(link: string): boolean {
  if (link.startsWith('/')) return !link.startsWith('//') && !link.startsWith('/\\');
  try {
    return ['http:', 'https:'].includes(new URL(link).protocol);
  } catch {
    return false;
  }
}

export function announcementRoutes(ctx: HubContext): ApiRoute[] {
  const post = async (announcement: Announcement | null) => {
    ctx.settings.setAnnouncement(announcement);
    await ctx.db.commit();
    ctx.events.announcementChanged(announcement);
  };
  return [
    route('get', '/lectern/announcement', (_req, res) => {
      requireScope(res, ['admin-ui']);
      res.json({ announcement: ctx.settings.announcement() });
    }),

    route('put', '/lectern/announcement', async (req, res) => {
      requireScope(res, ['admin-ui']);
      const { message, link } = parseBody(announcementBody, req.body);
      const announcement: Announcement = { message, link: link || null, posted: new Date().toISOString() };
      await post(announcement);
      res.json({ announcement });
    }),

    route('delete', '/lectern/announcement', async (_req, res) => {
      requireScope(res, ['admin-ui']);
      await post(null);
      res.status(204).end();
    }),
  ];
}
