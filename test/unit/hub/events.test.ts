import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubEvents, type HubCounts, type HubEvent } from '../../../server/hub/events.js';
import type { ServerState } from '../../../server/servers/server-state.js';
import type { Announcement } from '../../../server/store/settings.js';
import { createLogger } from '../../../server/logging/logger.js';

function harness() {
  const servers: ServerState[] = [];
  const accounts = { users: 2, signedIn: 0, pendingApproval: 0 };
  const logged: string[] = [];
  let announcement: Announcement | null = null;
  const events = new HubEvents({
    servers: () => servers.map((server) => ({ ...server })),
    accounts: () => ({ ...accounts }),
    announcement: () => announcement,
    log: createLogger({ level: 'debug', sink: (line) => logged.push(line) }),
  });
  const listen = () => {
    const heard: HubEvent[] = [];
    const stop = events.subscribe((event) => heard.push(event));
    return { heard, stop };
  };
  const announce = (posted: Announcement | null) => {
    announcement = posted;
    events.announcementChanged(posted);
  };
  return { servers, accounts, events, listen, logged, announce };
}

const alice = (phase: ServerState['phase'], failure: string | null = null): ServerState => ({
  user: 'alice',
  name: '',
  phase,
  started: null,
  failure,
  notice: null,
  sandbox: null,
  queuePosition: null,
});
const counts = (extra: Partial<HubCounts> = {}): HubCounts => ({ users: 2, signedIn: 0, pendingApproval: 0, running: 0, starting: 0, failed: 0, ...extra });

describe('HubEvents', () => {
  it('starts every listener with a snapshot of the servers and the counts', () => {
    const h = harness();
    h.servers.push(alice('running'), { ...alice('stopped', 'It crashed'), user: 'bob' });
    const { heard } = h.listen();
    assert.deepEqual(heard, [{ type: 'snapshot', counts: counts({ running: 1, failed: 1 }), servers: h.servers, announcement: null }]);
  });

  it('sends the message to the class when it is posted or taken down, and in the next snapshot', () => {
    const h = harness();
    const { heard } = h.listen();
    const message: Announcement = { message: 'Open lesson 3', link: null, posted: '2026-12-02T09:00:00.000Z' };
    h.announce(message);
    assert.deepEqual(heard.slice(1), [{ type: 'announcement', announcement: message }]);
    assert.deepEqual(h.listen().heard[0], { type: 'snapshot', counts: counts(), servers: [], announcement: message });
    h.announce(null);
    assert.deepEqual(heard.at(-1), { type: 'announcement', announcement: null });
  });

  it('sends each server change, and the counts only when they changed', () => {
    const h = harness();
    const { heard } = h.listen();
    h.servers.push(alice('spawning'));
    h.events.serverChanged(alice('spawning'));
    h.events.usageSampled([]);
    h.servers[0] = alice('stopped', 'No Jupyter found');
    h.events.serverChanged(alice('stopped', 'No Jupyter found'));
    assert.deepEqual(heard.slice(1), [
      { type: 'server', ...alice('spawning') },
      { type: 'counts', counts: counts({ starting: 1 }) },
      { type: 'usage', servers: [] },
      { type: 'server', ...alice('stopped', 'No Jupyter found') },
      { type: 'counts', counts: counts({ failed: 1 }) },
    ]);
  });

  it('notices account counts that nothing announced at the next usage sample', () => {
    const h = harness();
    const { heard } = h.listen();
    h.accounts.signedIn = 1;
    h.accounts.pendingApproval = 3;
    h.events.usageSampled([{ user: 'alice', name: '', cpuPercent: 12.5, memoryBytes: 1024 }]);
    assert.deepEqual(heard.slice(1), [
      { type: 'usage', servers: [{ user: 'alice', name: '', cpuPercent: 12.5, memoryBytes: 1024 }] },
      { type: 'counts', counts: counts({ signedIn: 1, pendingApproval: 3 }) },
    ]);
  });

  it('tells earlier listeners of a change before a new listener gets its snapshot', () => {
    const h = harness();
    const first = h.listen();
    h.accounts.users = 3;
    const second = h.listen();
    assert.deepEqual(first.heard.at(-1), { type: 'counts', counts: counts({ users: 3 }) });
    assert.deepEqual(second.heard, [{ type: 'snapshot', counts: counts({ users: 3 }), servers: [], announcement: null }]);
  });

  it('stops sending to a listener that unsubscribed, and survives a listener that throws', () => {
    const h = harness();
    const gone = h.listen();
    gone.stop();
    h.events.subscribe((event) => {
      if (event.type !== 'snapshot') throw new Error('listener bug');
    });
    const kept = h.listen();
    h.events.usersChanged();
    assert.equal(gone.heard.length, 1);
    assert.deepEqual(kept.heard.slice(1), [{ type: 'users' }]);
    assert.equal(h.logged.filter((line) => line.includes('an event listener failed on a users event')).length, 1);
  });
});
