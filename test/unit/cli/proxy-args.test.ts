import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProxyArgs, ProxyUsageError } from '../../../server/cli/proxy-args.js';

describe('parseProxyArgs', () => {
  it('accepts the command line JupyterHub 3.0 builds', () => {
    const settings = parseProxyArgs(
      ['--ip', '', '--port', '8000', '--api-ip', '127.0.0.1', '--api-port', '8001', '--error-target', 'http://127.0.0.1:8081/hub/error', '--log-level', 'DEBUG', '--host-routing',
        '--api-ssl-key', 'k', '--api-ssl-cert', 'c', '--api-ssl-ca', 'a', '--api-ssl-request-cert', '--api-ssl-reject-unauthorized',
        '--client-ssl-key', 'k', '--client-ssl-cert', 'c', '--client-ssl-ca', 'a', '--client-ssl-request-cert', '--client-ssl-reject-unauthorized'],
      { CONFIGPROXY_AUTH_TOKEN: 't' },
    );
    assert.deepEqual(settings.listen, { host: undefined, port: 8000 });
    assert.deepEqual(settings.api, { host: '127.0.0.1', port: 8001 });
    assert.equal(settings.logLevel, 'debug');
    assert.equal(settings.proxy.hostRouting, true);
    assert.equal(settings.proxy.errorTarget, 'http://127.0.0.1:8081/hub/error');
    assert.equal(settings.authToken, 't');
    assert.deepEqual(settings.apiSsl, { key: 'k', cert: 'c', ca: 'a', requestCert: true, rejectUnauthorized: true });
    assert.equal(settings.clientSsl?.ca, 'a');
  });

  it('has CHP’s defaults', () => {
    const settings = parseProxyArgs([], {});
    assert.deepEqual(settings.listen, { host: undefined, port: 8000 });
    assert.deepEqual(settings.api, { host: 'localhost', port: 8001 });
    assert.equal(settings.authToken, undefined);
    assert.deepEqual([settings.proxy.xForward, settings.proxy.prependPath, settings.proxy.includePrefix], [true, true, true]);
    assert.deepEqual(parseProxyArgs(['--port', '9000'], {}).api, { host: 'localhost', port: 9001 });
    assert.equal(parseProxyArgs(['--no-x-forward', '--no-prepend-path', '--no-include-prefix'], {}).proxy.xForward, false);
  });

  it('splits custom headers at the first colon and trims them', () => {
    const settings = parseProxyArgs(['--custom-header', 'k1: v1', '--custom-header', ' k2 : host:123 '], {});
    assert.deepEqual(settings.proxy.customHeaders, { k1: 'v1', k2: 'host:123' });
  });

  it('refuses what CHP refuses, with CHP’s words', () => {
    const refuse = (argv: string[], message: RegExp): void =>
      assert.throws(() => parseProxyArgs(argv, {}), (error: unknown) => error instanceof ProxyUsageError && message.test(error.message), argv.join(' '));
    refuse(['--bogus'], /Unknown option '--bogus'/);
    refuse(['--custom-header', 'invalid'], /^A colon was expected in custom header: invalid$/);
    refuse(['--custom-header', ':v'], /A colon was expected/);
    refuse(['--error-target', 'http://h', '--error-path', '/tmp'], /^Cannot specify both error-target and error-path\. Pick one\.$/);
    refuse(['--redirect-port', '8080'], /^HTTPS redirection specified but certificates not provided\.$/);
    refuse(['--socket', '/tmp/s', '--port', '1'], /cannot be used with option '--port'/);
    refuse(['--port', 'eighty'], /--port must be a port number/);
    refuse(['--log-level', 'loud'], /--log-level must be one of/);
    assert.equal(parseProxyArgs(['--log-level', 'WARNING'], {}).logLevel, 'warn');
    refuse(['--storage-backend', 'x'], /not supported/);
  });

  it('reads * as every interface, with CHP’s warning', () => {
    const settings = parseProxyArgs(['--ip', '*'], {});
    assert.deepEqual(settings.listen, { host: undefined, port: 8000 });
    assert.equal(settings.warnings.length, 1);
  });

  it('sets up the HTTPS redirect to the proxy port unless told otherwise', () => {
    assert.deepEqual(parseProxyArgs(['--ssl-key', 'k', '--ssl-cert', 'c', '--port', '8443', '--redirect-port', '8080'], {}).redirect, { port: 8080, to: 8443 });
    assert.deepEqual(parseProxyArgs(['--ssl-key', 'k', '--ssl-cert', 'c', '--redirect-port', '8080', '--redirect-to', '443'], {}).redirect, { port: 8080, to: 443 });
  });
});
