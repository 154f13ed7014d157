/**
 * The machine's name on the LAN (`laptop.local`), answered over multicast DNS, so that a student
 * can type an address that stays the same when the school's network gives the laptop another IP
 * address next week. Many networks resolve `.local` names (macOS, iOS, Windows 10 and later, Linux
 * with Avahi; Android only recently), so the name is offered beside the IP address, never instead of
 * it. Where the OS already answers for its name (Avahi, Bonjour), both give the same addresses.
 */
import os from 'node:os';
import type { Answer, Question } from 'dns-packet';
import type { Logger } from '../logging/logger.js';
import { withoutAccents } from '../auth/login-names.js';

/** Seconds a resolver may keep the answer: short, since the laptop's address may change. */
const TTL_SECONDS = 120;
/** The record types the name is asked by: an address (IPv4), or anything. */
const ANSWERED_TYPES: ReadonlySet<string> = new Set(['A', 'ANY']);
/** A DNS label is at most 63 bytes. */
const MAX_LABEL = 63;

/** `Zoë's MacBook Pro.lan` → `zoes-macbook-pro.local`; null when nothing usable is left. */
export function mdnsHostName(hostname: string = os.hostname()): string | null {
  const label = withoutAccents(hostname.split('.')[0] ?? '')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_LABEL)
    .replace(/-+$/, '');
  return label ? `${label}.local` : null;
}

/** The A records answering `questions` for `name`, with the machine's IPv4 `addresses` now. */
export function mdnsAnswers(questions: readonly Question[], name: string, addresses: readonly string[]): Answer[] {
  const asked = questions.some((question) => question.name.toLowerCase() === name && ANSWERED_TYPES.has(question.type));
  return asked ? addresses.map((address) => ({ name, type: 'A', ttl: TTL_SECONDS, data: address })) : [];
}

export interface MdnsAnnouncer {
  readonly name: string;
  close(): Promise<void>;
}

/**
 * Answers queries for `name` with `addresses()` (read at each query: the laptop moves between
 * networks). Resolves with null, after logging why, when the multicast socket cannot be opened
 * (no network, or the port refused): the IP addresses still work.
 */
export async function announceHostName(name: string, addresses: () => string[], log: Logger): Promise<MdnsAnnouncer | null> {
  // Loaded only when there is a LAN to announce on: a hub on loopback alone never needs it.
  const { default: makeMdns } = await import('multicast-dns');
  return new Promise((resolve) => {
    let settled = false;
    const mdns = makeMdns({ reuseAddr: true });
    const close = () => new Promise<void>((done) => mdns.destroy(() => done()));
    mdns.on('error', (error: Error) => {
      if (!settled) {
        settled = true;
        log.info(`students cannot use the name ${name}: multicast DNS is not available here (${error.message})`);
        void close().then(() => resolve(null));
      } else {
        log.debug(`multicast DNS: ${error.message}`);
      }
    });
    mdns.on('ready', () => {
      if (settled) return;
      settled = true;
      resolve({ name, close });
    });
    mdns.on('query', (query) => {
      const answers = mdnsAnswers(query.questions, name, addresses());
      if (answers.length > 0) mdns.respond({ answers });
    });
  });
}
