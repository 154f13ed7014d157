/**
 * A sign-up waiting for the teacher's approval keeps its browser's place. The waiting page holds a
 * ticket (a cookie) that turns into a login once the teacher lets the student in, so the page moves
 * on by itself. The student proved the password to get the ticket (by signing up, or logging in
 * while waiting), so the ticket is worth no more than that login. Tickets are kept in memory, for a
 * lesson: after a hub restart a waiting student logs in again.
 */
import { hashSecret, newSecret } from './secrets.js';

export const WAITING_COOKIE = 'lectern-waiting';
/** How long a ticket (and its cookie) lasts: a school day. */
export const WAITING_TICKET_SECONDS = 12 * 60 * 60;
/** More tickets than this and the oldest are dropped: sign-ups from a script must not fill memory. */
const MAX_TICKETS = 10_000;

interface Ticket {
  userId: number;
  expiresAt: number;
}

export class ApprovalWaits {
  /** By the ticket's hash, oldest first. */
  private readonly tickets = new Map<string, Ticket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new ticket for the account `userId`, to put in the waiting page's cookie. */
  issue(userId: number): string {
    this.prune();
    const ticket = newSecret();
    this.tickets.set(hashSecret(ticket), { userId, expiresAt: this.now() + WAITING_TICKET_SECONDS * 1000 });
    return ticket;
  }

  /** The account a ticket waits for, or undefined when the ticket is unknown or expired. */
  find(ticket: string): number | undefined {
    const entry = this.tickets.get(hashSecret(ticket));
    return entry && entry.expiresAt > this.now() ? entry.userId : undefined;
  }

  /** Ends a ticket, once it became a login or its sign-up was turned away. */
  end(ticket: string): void {
    this.tickets.delete(hashSecret(ticket));
  }

  private prune(): void {
    const now = this.now();
    for (const [hash, entry] of this.tickets) if (entry.expiresAt <= now) this.tickets.delete(hash);
    for (const hash of this.tickets.keys()) {
      if (this.tickets.size < MAX_TICKETS) break;
      this.tickets.delete(hash);
    }
  }
}
