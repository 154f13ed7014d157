import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig, redactConfig } from '../../../server/config/load.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'lectern-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function writeConfig(text: string, extension = '.yaml'): Promise<string> {
  const file = path.join(dir, `lectern-${++counter}${extension}`);
  await writeFile(file, text);
  return file;
}

/** Loads with an empty environment unless one is given, so the machine running the tests cannot leak in. */
function load(options: Parameters<typeof loadConfig>[0] = {}) {
  return loadConfig({ env: {}, ...options });
}

async function loadError(options: Parameters<typeof loadConfig>[0]): Promise<string> {
  try {
    await load(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.name, 'ConfigError');
    assert.ok(!error.message.includes('\n'), `one line expected: ${error.message}`);
    return error.message;
  }
  assert.fail('expected loadConfig to reject');
}

describe('loadConfig: sources', () => {
  it('gives the defaults with no file, no overrides and no environment', async () => {
    const { config, userProvided, file } = await load();
    assert.equal(file, undefined);
    assert.deepEqual(userProvided, {});
    assert.equal(config.network.port, 8000);
    assert.equal(config.logLevel, 'info');
  });

  it('reads YAML', async () => {
    const file = await writeConfig('network:\n  port: 9000\n  baseUrl: /class\nadminUsers: [ada]\n');
    const { config, userProvided, file: read } = await load({ file });
    assert.equal(read, file);
    assert.equal(config.network.port, 9000);
    assert.equal(config.network.baseUrl, '/class/');
    assert.deepEqual(config.adminUsers, ['ada']);
    assert.deepEqual(userProvided, { network: { port: 9000, baseUrl: '/class' }, adminUsers: ['ada'] });
  });

  it('reads .yml and JSON, and tries YAML for other extensions', async () => {
    const yml = await writeConfig('logLevel: debug\n', '.yml');
    assert.equal((await load({ file: yml })).config.logLevel, 'debug');
    const json = await writeConfig('{\n\t"network": {"port": 9001},\n\t"spawner": {"command": ["jupyter", "lab"]}\n}\n', '.json');
    const fromJson = await load({ file: json });
    assert.equal(fromJson.config.network.port, 9001);
    assert.deepEqual(fromJson.config.spawner.command, ['jupyter', 'lab']);
    const conf = await writeConfig('logLevel: warn\n', '.conf');
    assert.equal((await load({ file: conf })).config.logLevel, 'warn');
  });

  it('treats an empty or comment-only file as no settings, and ignores a byte-order mark', async () => {
    assert.deepEqual((await load({ file: await writeConfig('') })).userProvided, {});
    assert.deepEqual((await load({ file: await writeConfig('# nothing yet\n') })).userProvided, {});
    assert.equal((await load({ file: await writeConfig('\uFEFFlogLevel: warn\n') })).config.logLevel, 'warn');
  });

  it('lets CLI overrides win over the file, merging nested sections', async () => {
    const file = await writeConfig('network:\n  port: 9000\n  ip: 127.0.0.1\nspawner:\n  args: [--a]\n  stopTimeouts: {kill: 2}\n');
    const { config, userProvided } = await load({
      file,
      overrides: { network: { port: 9100 }, spawner: { args: ['--b'], stopTimeouts: { interrupt: 1 } } },
    });
    assert.equal(config.network.port, 9100);
    assert.equal(config.network.ip, '127.0.0.1');
    // Lists are replaced, not concatenated: the CLI says what the list is.
    assert.deepEqual(config.spawner.args, ['--b']);
    assert.deepEqual(config.spawner.stopTimeouts, { interrupt: 1, terminate: 5, kill: 2 });
    assert.deepEqual(userProvided.network, { port: 9100, ip: '127.0.0.1' });
  });

  it('converts numeric and boolean strings from the CLI where the schema wants them', async () => {
    const { config } = await load({
      overrides: { network: { port: '8080' }, spawner: { startTimeout: '2.5' }, services: [{ name: 'svc', apiToken: 't'.repeat(16), admin: 'true' }] },
    });
    assert.equal(config.network.port, 8080);
    assert.equal(config.spawner.startTimeout, 2.5);
    assert.equal(config.services[0]?.admin, true);
  });

  it('treats undefined overrides (unset CLI flags) as not given', async () => {
    const file = await writeConfig('network:\n  port: 9000\n');
    const { config, userProvided } = await load({ file, overrides: { network: { port: undefined, ip: undefined }, logLevel: undefined } });
    assert.equal(config.network.port, 9000);
    assert.deepEqual(userProvided, { network: { port: 9000 } });
    assert.deepEqual((await load({ overrides: { logLevel: undefined, auth: { minPasswordLength: undefined } } })).userProvided, { auth: {} });
  });

  it('does not modify the overrides object it is given', async () => {
    const overrides = { network: { port: '8080' } };
    await load({ overrides });
    assert.deepEqual(overrides, { network: { port: '8080' } });
  });

  it('reads LECTERN_PORT, LECTERN_DATA_DIR and LECTERN_CONFIG', async () => {
    const file = await writeConfig('network:\n  port: 9000\nlogLevel: error\n');
    const dataDir = path.join(dir, 'data');
    const { config, file: read } = await load({ env: { LECTERN_CONFIG: file, LECTERN_PORT: '9200', LECTERN_DATA_DIR: dataDir } });
    assert.equal(read, file);
    assert.equal(config.logLevel, 'error');
    assert.equal(config.network.port, 9200, 'the environment wins over the file');
    assert.equal(config.dataDir, dataDir);
  });

  it('lets CLI overrides win over the environment, and an explicit file over LECTERN_CONFIG', async () => {
    const envFile = await writeConfig('logLevel: error\n');
    const explicit = await writeConfig('logLevel: debug\n');
    const { config } = await load({
      file: explicit,
      env: { LECTERN_CONFIG: envFile, LECTERN_PORT: '9200' },
      overrides: { network: { port: 9300 } },
    });
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.network.port, 9300);
  });

  it('ignores empty environment variables and reads nothing else from the environment', async () => {
    const { config } = await load({ env: { LECTERN_PORT: '', LECTERN_LOG_LEVEL: 'debug', LECTERN_DATA_DIR: '' } });
    assert.equal(config.network.port, 8000);
    assert.equal(config.logLevel, 'info');
  });

  it('uses process.env when no environment is given', async () => {
    const saved = process.env.LECTERN_PORT;
    process.env.LECTERN_PORT = '9400';
    try {
      assert.equal((await loadConfig({ file: await writeConfig('{}') })).config.network.port, 9400);
    } finally {
      if (saved === undefined) delete process.env.LECTERN_PORT;
      else process.env.LECTERN_PORT = saved;
    }
  });

  it('resolves relative paths in a file against the file, and from the CLI against the current folder', async () => {
    const sub = path.join(dir, 'class');
    await mkdir(sub, { recursive: true });
    const file = path.join(sub, 'lectern.yaml');
    await writeFile(file, 'dataDir: data\nnetwork:\n  tls: {cert: tls/cert.pem, key: /abs/key.pem}\nspawner:\n  notebookRoot: ../notebooks\n');
    const { config } = await load({ file });
    assert.equal(config.dataDir, path.join(sub, 'data'));
    assert.deepEqual(config.network.tls, { cert: path.join(sub, 'tls', 'cert.pem'), key: path.resolve('/abs/key.pem') });
    assert.equal(config.spawner.notebookRoot, path.join(dir, 'notebooks'));
    const fromCli = await load({ file, overrides: { dataDir: 'elsewhere' } });
    assert.equal(fromCli.config.dataDir, path.resolve('elsewhere'));
  });

  it('resolves a relative file name against the current folder', async () => {
    const file = await writeConfig('logLevel: warn\n');
    const relative = path.relative(process.cwd(), file);
    assert.equal((await load({ file: relative })).file, file);
  });
});

describe('loadConfig: errors', () => {
  it('names an unknown nested key and the allowed ones', async () => {
    const file = await writeConfig('network:\n  prot: 80\n');
    assert.equal(await loadError({ file }), `Config file ${file}: unknown key "network.prot" (allowed: ip, port, baseUrl, tls, serverOrigins, serverPorts).`);
  });

  it('names an unknown top-level key', async () => {
    const file = await writeConfig('port: 80\n');
    assert.equal(
      await loadError({ file }),
      `Config file ${file}: unknown key "port" (allowed: network, dataDir, logLevel, adminUsers, proxy, services, roles, auth, spawner, culler).`,
    );
  });

  it('reports a bad port with the value given', async () => {
    const file = await writeConfig('network:\n  port: eighty\n');
    assert.equal(await loadError({ file }), `Config file ${file}: "network.port" must be an integer from 0 to 65535 (got "eighty").`);
    const high = await writeConfig('network:\n  port: 70000\n');
    assert.equal(await loadError({ file: high }), `Config file ${high}: "network.port" must be an integer from 0 to 65535 (got 70000).`);
  });

  it('reports a negative timeout in seconds', async () => {
    const file = await writeConfig('spawner:\n  startTimeout: -1\n');
    assert.equal(await loadError({ file }), `Config file ${file}: "spawner.startTimeout" must be a positive number of seconds (got -1).`);
  });

  it('reports wrong types', async () => {
    const file = await writeConfig('network: 5\nadminUsers: ada\n');
    assert.equal(
      await loadError({ file }),
      `Config file ${file}: "network" must be a mapping with the keys ip, port, baseUrl, tls, serverOrigins, serverPorts (got 5); ` +
        '"adminUsers" must be a list of non-empty strings (got "ada").',
    );
    const level = await writeConfig('logLevel: verbose\n');
    assert.equal(await loadError({ file: level }), `Config file ${level}: "logLevel" must be one of "debug", "info", "warn", "error" (got "verbose").`);
  });

  it('reports a baseUrl without a leading slash', async () => {
    const file = await writeConfig('network:\n  baseUrl: class\n');
    assert.equal(
      await loadError({ file }),
      `Config file ${file}: "network.baseUrl" must be a URL path starting with "/" (no "?", "#" or spaces) (got "class").`,
    );
  });

  it('reports a missing required key', async () => {
    const file = await writeConfig('network:\n  tls:\n    cert: cert.pem\n');
    assert.equal(await loadError({ file }), `Config file ${file}: "network.tls.key" is missing (must be a file path).`);
  });

  it('reports bad environment variable names for user servers', async () => {
    const file = await writeConfig('spawner:\n  environment:\n    MY-VAR: x\n');
    assert.equal(
      await loadError({ file }),
      `Config file ${file}: "spawner.environment" has an invalid key "MY-VAR" ` +
        '(must be an environment variable name: letters, digits and "_", not starting with a digit).',
    );
  });

  it('reports duplicate services and never shows a token', async () => {
    const token = 'x'.repeat(20);
    const file = await writeConfig(JSON.stringify({ services: [{ name: 'grader', apiToken: token }, { name: 'bot', apiToken: 'short' }] }), '.json');
    const message = await loadError({ file });
    assert.equal(
      message,
      `Config file ${file}: "services[1].apiToken" must be a string of at least 16 characters (got a secret of 5 characters).`,
    );
    assert.ok(!message.includes('short'));
    const duplicates = await writeConfig(
      JSON.stringify({ services: [{ name: 'grader', apiToken: token }, { name: 'grader', apiToken: token }] }),
      '.json',
    );
    const duplicateMessage = await loadError({ file: duplicates });
    assert.equal(
      duplicateMessage,
      `Config file ${duplicates}: "services[1].name" must be unique, but "grader" is also the name of services[0]; ` +
        '"services[1].apiToken" must be unique, but it is the same as the token of services[0].',
    );
    assert.ok(!duplicateMessage.includes(token));
  });

  it('joins a few problems into one sentence, unknown keys first, and counts the rest', async () => {
    const file = await writeConfig('network:\n  port: -1\n  prot: 1\nlogLevel: loud\nauth:\n  minPasswordLength: 0\nspawner:\n  kill: 1\n');
    const message = await loadError({ file });
    assert.equal(
      message,
      `Config file ${file}: unknown key "network.prot" (allowed: ip, port, baseUrl, tls, serverOrigins, serverPorts); ` +
        'unknown key "spawner.kill" (allowed: python, launchMode, command, args, environment, isolation, forkServer, memoryLimitMb, notebookRoot, courseData, defaultUrl, startTimeout, httpTimeout, concurrentSpawnLimit, activeServerLimit, minFreeMemoryMb, logMaxBytes, allowNamedServers, namedServerLimitPerUser, stopTimeouts); ' +
        '"network.port" must be an integer from 0 to 65535 (got -1); and 2 more problems.',
    );
  });

  it('gives the line and column of a YAML syntax error', async () => {
    const file = await writeConfig('network:\n  port: 8000\n   ip: x\n');
    assert.equal(
      await loadError({ file }),
      `Config file ${file}: YAML syntax error at line 2, column 9: Nested mappings are not allowed in compact mappings.`,
    );
    const duplicate = await writeConfig('logLevel: info\nlogLevel: warn\n');
    assert.equal(await loadError({ file: duplicate }), `Config file ${duplicate}: YAML syntax error at line 2, column 1: Map keys must be unique.`);
  });

  it('calls a JSON file\'s syntax errors JSON', async () => {
    const file = await writeConfig('{"network": {"port": 1}\n "logLevel": "info"}', '.json');
    assert.match(await loadError({ file }), new RegExp(`^Config file ${escapeRegExp(file)}: JSON syntax error at line 2, column 2: Missing , between flow map items\\.$`));
  });

  it('rejects a file whose top level is not a mapping', async () => {
    const file = await writeConfig('- port\n- 8000\n');
    assert.equal(await loadError({ file }), `Config file ${file}: the top level must be a mapping of settings (got a list).`);
  });

  it('reports a YAML alias that points nowhere', async () => {
    const file = await writeConfig('adminUsers: *admins\n');
    assert.match(await loadError({ file }), new RegExp(`^Config file ${escapeRegExp(file)}: YAML `));
  });

  it('says a missing file was not found', async () => {
    const file = path.join(dir, 'missing.yaml');
    assert.equal(await loadError({ file }), `Config file ${file} not found.`);
    assert.equal(await loadError({ env: { LECTERN_CONFIG: file } }), `Config file ${file} (from LECTERN_CONFIG) not found.`);
  });

  it('says a folder is not a file', async () => {
    assert.equal(await loadError({ file: dir }), `Config file ${dir} is a folder, not a file.`);
  });

  it('blames a bad CLI value on the option, not the file', async () => {
    const file = await writeConfig('logLevel: warn\n');
    assert.equal(await loadError({ file, overrides: { network: { port: 'eighty' } } }), 'Option --port must be an integer from 0 to 65535 (got "eighty").');
    assert.equal(await loadError({ overrides: { spawner: { startTimeout: '-1' } } }), 'Option --start-timeout must be a positive number of seconds (got -1).');
  });

  it('uses the CLI\'s own option names when given', async () => {
    assert.equal(
      await loadError({ overrides: { network: { ip: '' } }, optionNames: { 'network.ip': '--bind-addr' } }),
      'Option --bind-addr must be an IP address or host name (got "").',
    );
    assert.equal(
      await loadError({ overrides: { network: { tls: { cert: 'c.pem' } } }, optionNames: { 'network.tls': '--tls' } }),
      'Option --tls ("network.tls.key") is missing (must be a file path).',
    );
  });

  it('puts a CLI problem before the file\'s problems', async () => {
    const file = await writeConfig('logLevel: loud\n');
    assert.equal(
      await loadError({ file, overrides: { network: { port: 'eighty' } } }),
      `Option --port must be an integer from 0 to 65535 (got "eighty"); Config file ${file}: "logLevel" must be one of "debug", "info", "warn", "error" (got "loud").`,
    );
  });

  it('blames a bad environment value on the variable', async () => {
    const file = await writeConfig('network:\n  port: 9000\n');
    assert.equal(
      await loadError({ file, env: { LECTERN_PORT: 'eighty' } }),
      'Environment variable LECTERN_PORT must be an integer from 0 to 65535 (got "eighty").',
    );
  });

  it('reports a __proto__ key as unknown instead of merging it into the prototype', async () => {
    const file = await writeConfig('__proto__:\n  polluted: true\n');
    assert.match(await loadError({ file }), /unknown key "__proto__"/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('redactConfig', () => {
  it('replaces every apiToken and leaves the rest alone', async () => {
    const token = 's'.repeat(32);
    const { config, userProvided } = await load({
      overrides: { services: [{ name: 'a', apiToken: token }, { name: 'b', apiToken: `${token}2`, admin: true }] },
    });
    const redacted = redactConfig(config);
    assert.deepEqual(redacted.services, [
      { name: 'a', apiToken: '[secret]', admin: false },
      { name: 'b', apiToken: '[secret]', admin: true },
    ]);
    assert.deepEqual({ ...redacted, services: [] }, { ...config, services: [] });
    assert.ok(!JSON.stringify(redactConfig(userProvided)).includes(token));
    // The original is untouched: the hub still needs the real tokens.
    assert.equal(config.services[0]?.apiToken, token);
  });

  it('replaces a fixed join code, and keeps null (a generated code) as it is', async () => {
    const { config } = await load({ overrides: { auth: { joinCode: 'K7P-2QX' } } });
    assert.equal(redactConfig(config).auth.joinCode, '[secret]');
    assert.equal(redactConfig((await load()).config).auth.joinCode, null);
    const problem = await loadError({ overrides: { auth: { joinCode: 'K7P?2QX' } } });
    assert.match(problem, /join-?code/i);
    assert.ok(!problem.includes('K7P'), problem);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
