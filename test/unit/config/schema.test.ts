import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema, defaultDataDir, portRange, type LecternConfig } from '../../../server/config/schema.js';

const TOKEN_A = 'a'.repeat(16);
const TOKEN_B = 'b'.repeat(16);

function issuesOf(input: unknown): { path: string; code: string; message: string }[] {
  const result = configSchema.safeParse(input);
  assert.equal(result.success, false, 'expected the input to be rejected');
  return result.error!.issues.map((issue) => ({ path: issue.path.join('.'), code: issue.code, message: issue.message }));
}

describe('configSchema', () => {
  it('fills every default from an empty file', () => {
    const config: LecternConfig = configSchema.parse({});
    assert.deepEqual({ ...config, dataDir: '<dataDir>' }, {
      network: { ip: '0.0.0.0', port: 8000, baseUrl: '/', serverOrigins: 'ports', serverPorts: '8001-8200' },
      dataDir: '<dataDir>',
      logLevel: 'info',
      adminUsers: [],
      proxy: { apiPort: null, apiIp: '127.0.0.1' },
      services: [],
      roles: [],
      auth: { sessionMaxAgeDays: 14, minPasswordLength: 8, loginMode: 'accounts', joinApproval: false, joinCode: null },
      spawner: {
        python: null,
        launchMode: 'auto',
        command: null,
        args: [],
        environment: {},
        isolation: 'auto',
        forkServer: true,
        memoryLimitMb: 2048,
        notebookRoot: null,
        courseData: null,
        defaultUrl: '',
        startTimeout: 60,
        httpTimeout: 30,
        concurrentSpawnLimit: 4,
        activeServerLimit: 0,
        minFreeMemoryMb: 400,
        logMaxBytes: 1_000_000,
        allowNamedServers: false,
        namedServerLimitPerUser: 0,
        stopTimeouts: { interrupt: 10, terminate: 5, kill: 5 },
      },
      culler: { enabled: true, idleTimeout: 3600, every: 60 },
    });
    assert.equal(config.dataDir, defaultDataDir());
    assert.equal(config.network.tls, undefined);
  });

  it('never runs the route API without a token', () => {
    const issues = issuesOf({ proxy: { apiPort: 8001 } });
    assert.equal(issues[0]?.path, 'proxy.apiToken');
    assert.match(issues[0]?.message ?? '', /needs apiToken/);
  });

  it('refuses a custom role with an unknown scope, naming both', () => {
    const issues = issuesOf({ roles: [{ name: 'grader', scopes: ['grade:all'] }] });
    assert.match(issues[0]?.message ?? '', /grade:all.*grader/);
  });

  it('fills defaults inside a partly given section', () => {
    const config = configSchema.parse({ spawner: { stopTimeouts: { interrupt: 3 } }, network: { port: 0 } });
    assert.deepEqual(config.spawner.stopTimeouts, { interrupt: 3, terminate: 5, kill: 5 });
    assert.equal(config.spawner.startTimeout, 60);
    assert.deepEqual(config.network, { ip: '0.0.0.0', port: 0, baseUrl: '/', serverOrigins: 'ports', serverPorts: '8001-8200' });
  });

  it('rejects unknown keys at every level', () => {
    assert.deepEqual(issuesOf({ prot: 1 }).map((i) => i.code), ['unrecognized_keys']);
    assert.equal(issuesOf({ network: { prot: 1 } })[0]?.path, 'network');
    assert.equal(issuesOf({ network: { tls: { cert: 'c', key: 'k', ca: 'x' } } })[0]?.path, 'network.tls');
    assert.equal(issuesOf({ spawner: { stopTimeouts: { sigint: 1 } } })[0]?.path, 'spawner.stopTimeouts');
    assert.equal(issuesOf({ services: [{ name: 'x', apiToken: TOKEN_A, extra: true }] })[0]?.path, 'services.0');
  });

  it('normalises baseUrl to end with exactly one slash', () => {
    const baseUrl = (value: string) => configSchema.parse({ network: { baseUrl: value } }).network.baseUrl;
    assert.equal(baseUrl('/'), '/');
    assert.equal(baseUrl('/class'), '/class/');
    assert.equal(baseUrl('/class//'), '/class/');
    assert.equal(baseUrl('/a/b'), '/a/b/');
    // A leading "//" would make redirects protocol-relative (to another host).
    assert.equal(baseUrl('//evil.example/'), '/evil.example/');
    for (const bad of ['class', '', 'http://host/', '/a?b', '/a#b', '/a b']) {
      assert.equal(issuesOf({ network: { baseUrl: bad } })[0]?.path, 'network.baseUrl', bad);
    }
  });

  it('bounds the port to 0–65535 integers', () => {
    for (const port of [0, 1, 65535]) assert.equal(configSchema.parse({ network: { port } }).network.port, port);
    for (const port of [-1, 65536, 80.5, '8000']) assert.equal(issuesOf({ network: { port } })[0]?.path, 'network.port');
  });

  it('takes a range of ports for students’ servers, or "0" for ports the system chooses', () => {
    for (const good of ['8001-8200', '9000-9000', '0', '1-65535']) assert.equal(configSchema.parse({ network: { serverPorts: good } }).network.serverPorts, good);
    for (const bad of ['8200-8001', '0-10', '8001-70000', '8001', 'any', '']) assert.equal(issuesOf({ network: { serverPorts: bad } })[0]?.path, 'network.serverPorts', bad);
    assert.deepEqual(portRange('8001-8200'), [8001, 8200]);
    assert.equal(portRange('0'), null);
  });

  it('requires both cert and key when tls is given', () => {
    const config = configSchema.parse({ network: { tls: { cert: '/c.pem', key: '/k.pem' } } });
    assert.deepEqual(config.network.tls, { cert: '/c.pem', key: '/k.pem' });
    assert.equal(issuesOf({ network: { tls: { cert: '/c.pem' } } })[0]?.path, 'network.tls.key');
  });

  it('accepts only the known log levels', () => {
    for (const level of ['debug', 'info', 'warn', 'error']) assert.equal(configSchema.parse({ logLevel: level }).logLevel, level);
    assert.equal(issuesOf({ logLevel: 'verbose' })[0]?.code, 'invalid_value');
  });

  it('validates services and defaults admin to false', () => {
    const config = configSchema.parse({ services: [{ name: 'grader-1', apiToken: TOKEN_A }] });
    assert.deepEqual(config.services, [{ name: 'grader-1', apiToken: TOKEN_A, admin: false }]);
    assert.equal(issuesOf({ services: [{ name: 'Grader', apiToken: TOKEN_A }] })[0]?.path, 'services.0.name');
    assert.equal(issuesOf({ services: [{ name: '-x', apiToken: TOKEN_A }] })[0]?.path, 'services.0.name');
    assert.equal(issuesOf({ services: [{ name: 'x'.repeat(65), apiToken: TOKEN_A }] })[0]?.path, 'services.0.name');
    assert.equal(issuesOf({ services: [{ name: 'x', apiToken: 'short' }] })[0]?.path, 'services.0.apiToken');
  });

  it('requires service names and tokens to be unique, without echoing the token', () => {
    const issues = issuesOf({
      services: [
        { name: 'grader', apiToken: TOKEN_A },
        { name: 'grader', apiToken: TOKEN_B },
        { name: 'other', apiToken: TOKEN_A },
      ],
    });
    assert.deepEqual(issues.map((i) => i.path), ['services.1.name', 'services.2.apiToken']);
    assert.match(issues[0]!.message, /must be unique, but "grader" is also the name of services\[0\]/);
    assert.match(issues[1]!.message, /same as the token of services\[0\]/);
    assert.ok(!issues[1]!.message.includes(TOKEN_A));
  });

  it('checks spawner settings', () => {
    assert.equal(issuesOf({ spawner: { command: [] } })[0]?.path, 'spawner.command');
    assert.equal(issuesOf({ spawner: { launchMode: 'jupyter' } })[0]?.path, 'spawner.launchMode');
    assert.equal(issuesOf({ spawner: { startTimeout: 0 } })[0]?.path, 'spawner.startTimeout');
    assert.equal(issuesOf({ spawner: { stopTimeouts: { kill: -1 } } })[0]?.path, 'spawner.stopTimeouts.kill');
    assert.equal(issuesOf({ spawner: { environment: { 'MY-VAR': 'x' } } })[0]?.code, 'invalid_key');
    assert.equal(issuesOf({ spawner: { environment: { '1X': 'x' } } })[0]?.code, 'invalid_key');
    assert.equal(issuesOf({ spawner: { environment: { X: 1 } } })[0]?.path, 'spawner.environment.X');
    const config = configSchema.parse({ spawner: { environment: { _X1: 'a' }, notebookRoot: '/srv/class' } });
    assert.deepEqual(config.spawner.environment, { _X1: 'a' });
    assert.equal(config.spawner.notebookRoot, '/srv/class');
  });

  it('bounds auth settings', () => {
    assert.equal(issuesOf({ auth: { minPasswordLength: 73 } })[0]?.path, 'auth.minPasswordLength');
    assert.equal(issuesOf({ auth: { minPasswordLength: 0 } })[0]?.path, 'auth.minPasswordLength');
    assert.equal(issuesOf({ auth: { sessionMaxAgeDays: 0 } })[0]?.path, 'auth.sessionMaxAgeDays');
    assert.equal(configSchema.parse({ auth: { sessionMaxAgeDays: 0.5 } }).auth.sessionMaxAgeDays, 0.5);
    assert.equal(issuesOf({ auth: { loginMode: 'shared-password' } })[0]?.path, 'auth.loginMode');
  });

  it('takes a fixed join code only if students can type it', () => {
    assert.equal(configSchema.parse({ auth: { joinCode: 'Physics 7B' } }).auth.joinCode, 'Physics 7B');
    assert.equal(issuesOf({ auth: { joinCode: 'a-b' } })[0]?.path, 'auth.joinCode', 'fewer than 4 letters or digits');
    assert.equal(issuesOf({ auth: { joinCode: 'ünïcode?' } })[0]?.path, 'auth.joinCode');
  });
});

describe('defaultDataDir', () => {
  it('uses XDG_DATA_HOME on Linux, else ~/.local/share', () => {
    assert.equal(defaultDataDir('linux', { XDG_DATA_HOME: '/data/x' }, '/home/ada'), '/data/x/lectern');
    assert.equal(defaultDataDir('linux', {}, '/home/ada'), '/home/ada/.local/share/lectern');
    assert.equal(defaultDataDir('linux', { XDG_DATA_HOME: '' }, '/home/ada'), '/home/ada/.local/share/lectern');
    // The XDG spec says relative values are invalid and must be ignored.
    assert.equal(defaultDataDir('linux', { XDG_DATA_HOME: 'rel' }, '/home/ada'), '/home/ada/.local/share/lectern');
    assert.equal(defaultDataDir('freebsd', {}, '/home/ada'), '/home/ada/.local/share/lectern');
  });

  it('uses Application Support on macOS', () => {
    assert.equal(defaultDataDir('darwin', { XDG_DATA_HOME: '/ignored' }, '/Users/ada'), '/Users/ada/Library/Application Support/Lectern');
  });

  it('uses %APPDATA% on Windows, with backslashes', () => {
    assert.equal(
      defaultDataDir('win32', { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'C:\\Users\\ada'),
      'C:\\Users\\ada\\AppData\\Roaming\\Lectern',
    );
    assert.equal(defaultDataDir('win32', {}, 'C:\\Users\\ada'), 'C:\\Users\\ada\\AppData\\Roaming\\Lectern');
  });
});
