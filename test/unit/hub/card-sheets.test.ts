import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CardSheets } from '../../../server/hub/card-sheets.js';

const sheet = (name: string) => ({
  cards: [{ name, displayName: null, password: 'maple-otter-cloud-42', linkSecret: 'secret', code: 'K7P2-QXM4' }],
  linksExpireAt: new Date('2026-01-09T00:00:00Z'),
});

describe('login card sheets', () => {
  it('keeps a sheet under an unguessable id for an hour, then forgets it', () => {
    let now = 0;
    const sheets = new CardSheets(() => now);
    const id = sheets.add(sheet('ann'));
    assert.match(id, /^[\w-]{32}$/);
    assert.notEqual(sheets.add(sheet('bob')), id);
    now = 59 * 60_000;
    assert.equal(sheets.get(id)?.cards[0]?.name, 'ann');
    now = 60 * 60_000;
    assert.equal(sheets.get(id), undefined);
  });

  it('keeps at most 100 sheets, dropping the oldest', () => {
    const sheets = new CardSheets(() => 0);
    const first = sheets.add(sheet('first'));
    const ids = Array.from({ length: 100 }, (_, i) => sheets.add(sheet(`s${i}`)));
    assert.equal(sheets.get(first), undefined);
    assert.equal(sheets.get(ids[0] as string)?.cards[0]?.name, 's0');
  });
});
