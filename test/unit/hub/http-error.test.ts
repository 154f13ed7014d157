/**
 * The one mapping from the hub's domain errors to HTTP answers: each refusal a part of the hub
 * raises is the status a client can act on, with its message; a bug is no answer of its own (the
 * final handler makes it a bare 500 and logs it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccountError } from '../../../server/auth/accounts.js';
import { RosterError } from '../../../server/auth/roster.js';
import { HandoutError } from '../../../server/handouts/handouts.js';
import { HttpError, httpErrorOf } from '../../../server/hub/http-error.js';
import { SettingsError } from '../../../server/hub/live-settings.js';
import { ServerBusyError } from '../../../server/servers/server-manager.js';
import { CapacityError, SpawnError } from '../../../server/spawner/spawner.js';

describe('errors as HTTP answers', () => {
  const cases: [Error, number][] = [
    [new AccountError('ann exists', 'exists'), 409],
    [new AccountError('bad name', 'invalid'), 400],
    [new RosterError('no names'), 400],
    [new ServerBusyError('ann is pending stop'), 400],
    [new HandoutError('too large', 413), 413],
    [new CapacityError('the class is full'), 429],
    [new SpawnError('the server exited (status 1) before it was ready'), 500],
  ];
  for (const [error, status] of cases) {
    it(`answers ${error.name} “${error.message}” with ${status} and its message`, () => {
      const answer = httpErrorOf(error);
      assert.equal(answer?.status, status);
      assert.equal(answer?.message, error.message);
    });
  }

  it('tells a client of a full machine when to try again', () => {
    assert.deepEqual(httpErrorOf(new CapacityError('full'))?.headers, { 'Retry-After': '30' });
  });

  it('sends the details a client acts on beside the message', () => {
    const problems = [{ key: 'culler.idleTimeout', message: 'must be a number' }];
    assert.deepEqual(httpErrorOf(new SettingsError(problems))?.details, { problems });
    assert.deepEqual(httpErrorOf(new HttpError(400, 'no', { details: { rows: [] } }))?.details, { rows: [] });
  });

  it('reads express’s body-parser errors, and leaves anything else to be a logged 500', () => {
    assert.equal(httpErrorOf(Object.assign(new SyntaxError('Unexpected token'), { status: 400, type: 'entity.parse.failed' }))?.message, 'Invalid JSON in body of request');
    assert.equal(httpErrorOf(new TypeError('x is undefined')), undefined);
  });
});
