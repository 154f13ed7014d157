/**
 * Login names made from people's names, as a school makes them: `Zoë Martin` logs in as
 * `zoe.martin`, typed on any keyboard. Accents come off Latin, Greek and Cyrillic letters (a student
 * typing `amelie` must find `amélie`); other scripts are kept as they are, since folding them would
 * leave nothing. The display name keeps the name as written.
 */
import type { UserRepository } from '../store/users.js';
import { normalizeUsername } from './usernames.js';

/** Room left at the end of a made-up name for the number that tells two namesakes apart. */
const MAX_BASE_LENGTH = 60;

/** Letters that lose no mark under NFKD but have a plain spelling every school system uses. */
const PLAIN_SPELLINGS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
};

/** `name` lower-cased, with the accents of Latin, Greek and Cyrillic letters taken off. */
export function withoutAccents(name: string): string {
  return normalizeUsername(name)
    .normalize('NFKD')
    .replace(/([\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])\p{M}+/gu, '$1')
    .replace(/[ßæœøłđðþıħ]/g, (letter) => PLAIN_SPELLINGS[letter] ?? letter)
    .normalize('NFC');
}

/**
 * One part of a person's name as a piece of a login name: `Jean-Luc` → `jean-luc`, `O'Brien` →
 * `obrien`, `van der Berg` → `van-der-berg`.
 */
function loginPart(part: string): string {
  return withoutAccents(part)
    .replace(/['’ʼ`´]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The login name for a person: their names' parts joined by dots (`zoe.martin`), or '' when
 * nothing usable is left. "Martin, Zoë" (the way a register lists names) is read as Zoë Martin.
 */
export function loginFromNames(parts: { first?: string | null; last?: string | null; full?: string | null }): string {
  const full = parts.full ?? '';
  const comma = full.indexOf(',');
  if (!parts.first && !parts.last && comma !== -1) return loginFromNames({ first: full.slice(comma + 1), last: full.slice(0, comma) });
  const pieces = parts.first || parts.last ? [parts.first ?? '', parts.last ?? ''] : full.split(/\s+/);
  return shorten(pieces.map(loginPart).filter(Boolean).join('.'));
}

/** The login name an email address gives: its local part, `Zoe.Martin@school.org` → `zoe.martin`. */
export function loginFromEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = withoutAccents(at === -1 ? email : email.slice(0, at));
  return shorten(local.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^[._-]+|[._-]+$/g, ''));
}

/** The full name as a display name: "Martin, Zoë" stays as written; spaces are tidied. */
export function tidyName(name: string): string {
  return name.replace(/\s+/g, ' ').trim();
}

function shorten(base: string): string {
  return base.length <= MAX_BASE_LENGTH ? base : base.slice(0, MAX_BASE_LENGTH).replace(/[._-]+$/, '');
}

/**
 * The account a login form's name stands for: the name itself when it has an account, else the
 * one account whose name it is without accents (`amelie` for `amélie`). Two such accounts, or none,
 * leave the name as typed, to be refused like any unknown name.
 */
export function accountNameFor(name: string, users: Pick<UserRepository, 'find' | 'list'>): string {
  if (users.find(name)) return name;
  const plain = withoutAccents(name);
  const matches = users.list().filter((user) => withoutAccents(user.name) === plain);
  return matches.length === 1 ? (matches[0]?.name as string) : name;
}
