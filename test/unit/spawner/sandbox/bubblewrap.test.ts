import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bubblewrapArgs, type SystemLayout } from '../../../../server/spawner/sandbox/bubblewrap.js';
import type { SandboxPlace } from '../../../../server/spawner/sandbox/place.js';

const MERGED_USR: SystemLayout = {
  entries: [
    { path: '/usr', symlinkTo: null },
    { path: '/bin', symlinkTo: 'usr/bin' },
    { path: '/lib', symlinkTo: 'usr/lib' },
    { path: '/etc', symlinkTo: null },
    { path: '/opt', symlinkTo: null },
  ],
  linkedFiles: ['/run/systemd/resolve/stub-resolv.conf'],
};

function place(extra: Partial<SandboxPlace> = {}): SandboxPlace {
  return {
    home: '/home/t/.local/share/lectern/users/ann/home',
    runtimeDir: '/home/t/.local/share/lectern/runtime/ann/_default/jupyter',
    tmpDir: '/home/t/.local/share/lectern/runtime/ann/_default/tmp',
    readOnly: ['/usr', '/home/t/.local/share/lectern/jupyter-config'],
    hidden: ['/home/t/.local/share/lectern', '/home/t/.local/share/lectern/users', '/home/t'],
    ...extra,
  };
}

/** The mounts as [option, ...paths] groups, in order. */
function mounts(args: string[]): string[][] {
  const groups: string[][] = [];
  const arity: Record<string, number> = { '--ro-bind': 2, '--bind': 2, '--symlink': 2, '--tmpfs': 1, '--proc': 1, '--dev': 1 };
  for (let i = 0; i < args.length; i++) {
    const option = args[i] as string;
    const count = arity[option];
    if (count === undefined) continue;
    groups.push(args.slice(i, i + 1 + count));
    i += count;
  }
  return groups;
}

describe('bubblewrap arguments', () => {
  it('gives the server new namespaces but the network, makes it PID 1, and does not die with the hub', () => {
    const args = bubblewrapArgs(place(), MERGED_USR);
    assert.deepEqual(args.slice(0, 3), ['--unshare-all', '--share-net', '--as-pid-1']);
    assert.ok(!args.includes('--die-with-parent'), 'a server outlives a crashed hub, which adopts it');
    assert.deepEqual(args.slice(-5), ['--chdir', place().home, '--info-fd', '3', '--']);
  });

  it('shows the OS read-only, its own folders read-write, and nothing of the data dir or the teacher’s home', () => {
    const shown = mounts(bubblewrapArgs(place(), MERGED_USR));
    assert.deepEqual(shown, [
      ['--ro-bind', '/usr', '/usr'],
      ['--symlink', 'usr/bin', '/bin'],
      ['--symlink', 'usr/lib', '/lib'],
      ['--ro-bind', '/etc', '/etc'],
      ['--ro-bind', '/opt', '/opt'],
      ['--proc', '/proc'],
      ['--dev', '/dev'],
      ['--bind', place().tmpDir, '/tmp'],
      // At a short path: the kernels' Unix sockets are in it.
      ['--bind', place().runtimeDir, '/run/jupyter'],
      ['--ro-bind', '/run/systemd/resolve/stub-resolv.conf', '/run/systemd/resolve/stub-resolv.conf'],
      ['--ro-bind', place().readOnly[1] as string, place().readOnly[1] as string],
      ['--bind', place().home, place().home],
    ]);
  });

  it('mounts the student’s folder after the private /tmp when the data dir is under /tmp', () => {
    const data = '/tmp/lectern-test-x';
    const shown = mounts(bubblewrapArgs(place({ home: `${data}/users/ann/home`, runtimeDir: `${data}/runtime/ann/_default/jupyter`, tmpDir: `${data}/runtime/ann/_default/tmp`, readOnly: [], hidden: [data] }), MERGED_USR));
    const at = (target: string) => shown.findIndex((mount) => mount.at(-1) === target);
    assert.ok(at('/tmp') < at(`${data}/users/ann/home`), 'a later /tmp would hide her folder');
    assert.ok(at('/tmp') < at('/run/jupyter'));
  });

  it('covers a hidden folder that a shown one holds, and shows again what is inside it', () => {
    const shown = mounts(
      bubblewrapArgs(
        place({
          home: '/opt/lectern/users/ann/home',
          runtimeDir: '/opt/lectern/runtime/ann/_default/jupyter',
          tmpDir: '/opt/lectern/runtime/ann/_default/tmp',
          readOnly: ['/opt/lectern/jupyter-config', '/home/t', '/home/t/miniconda3'],
          hidden: ['/opt/lectern', '/home/t'],
        }),
        MERGED_USR,
      ),
    );
    const index = (mount: string[]) => shown.findIndex((other) => JSON.stringify(other) === JSON.stringify(mount));
    // /opt is the OS's: the data dir inside it is covered, then its config folder shown again.
    assert.ok(index(['--tmpfs', '/opt/lectern']) > index(['--ro-bind', '/opt', '/opt']));
    assert.ok(index(['--ro-bind', '/opt/lectern/jupyter-config', '/opt/lectern/jupyter-config']) > index(['--tmpfs', '/opt/lectern']));
    // A teacher's home named as readable stays hidden; the environment inside it shows.
    assert.ok(index(['--tmpfs', '/home/t']) > index(['--ro-bind', '/home/t', '/home/t']));
    assert.ok(index(['--ro-bind', '/home/t/miniconda3', '/home/t/miniconda3']) > index(['--tmpfs', '/home/t']));
    assert.ok(index(['--bind', '/opt/lectern/users/ann/home', '/opt/lectern/users/ann/home']) > index(['--tmpfs', '/opt/lectern']));
  });
});
