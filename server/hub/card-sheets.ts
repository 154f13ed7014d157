/**
 * Sheets of login cards waiting to be printed. A sheet from a roster import shows freshly generated
 * passwords in clear, and every card carries a login link's secret, so sheets live only in memory,
 * for an hour: long enough to open and print, and gone when the hub restarts. What lasts is in the
 * database (hashed passwords, hashed link secrets).
 */
import { randomBytes } from 'node:crypto';

export interface LoginCard {
  name: string;
  displayName: string | null;
  /** Known only for a sheet made by an import; otherwise the student uses the password they have. */
  password: string | null;
  /** The secret of the card's one-time login link. */
  linkSecret: string;
  /** The card code, typed at any address for a one-time login when the QR code's no longer answers. */
  code: string;
}

export interface CardSheet {
  cards: LoginCard[];
  /** When the cards' login links stop working. */
  linksExpireAt: Date;
}

const SHEET_LIFETIME_MS = 60 * 60 * 1000;
/** Sheets kept at most, oldest dropped first: bounds memory if a script makes sheets in a loop. */
const MAX_SHEETS = 100;

export class CardSheets {
  private readonly sheets = new Map<string, CardSheet & { madeAt: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Keeps a sheet and returns its id, unguessable since the sheet's URL is its only name. */
  add(sheet: CardSheet): string {
    this.forgetExpired();
    const oldest = this.sheets.keys().next();
    if (this.sheets.size >= MAX_SHEETS && !oldest.done) this.sheets.delete(oldest.value);
    const id = randomBytes(24).toString('base64url');
    this.sheets.set(id, { ...sheet, madeAt: this.clock() });
    return id;
  }

  /** The sheet, or undefined once it has expired (or never existed, or the hub restarted). */
  get(id: string): CardSheet | undefined {
    this.forgetExpired();
    const sheet = this.sheets.get(id);
    return sheet && { cards: sheet.cards, linksExpireAt: sheet.linksExpireAt };
  }

  private forgetExpired(): void {
    const now = this.clock();
    for (const [id, sheet] of this.sheets) {
      if (now - sheet.madeAt >= SHEET_LIFETIME_MS) this.sheets.delete(id);
    }
  }
}
