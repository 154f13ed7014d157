import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApprovalWaits, WAITING_TICKET_SECONDS } from '../../../server/auth/approval-waits.js';

describe('the tickets of sign-ups waiting for approval', () => {
  it('stands for its account until ended or expired, and is nobody else’s', () => {
    let now = 1_000_000;
    const waits = new ApprovalWaits(() => now);
    const hana = waits.issue(7);
    const ivan = waits.issue(8);
    assert.notEqual(hana, ivan);
    assert.equal(waits.find(hana), 7);
    assert.equal(waits.find(ivan), 8);
    assert.equal(waits.find('0'.repeat(64)), undefined, 'a made-up ticket stands for no one');

    waits.end(hana);
    assert.equal(waits.find(hana), undefined, 'an ended ticket logs nobody in again');
    now += WAITING_TICKET_SECONDS * 1000;
    assert.equal(waits.find(ivan), undefined, 'a ticket lasts a school day');
  });
});
