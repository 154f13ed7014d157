import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { clientResponseHeaders, type RequestHeaderPolicy, rewriteLocation, upstreamRequestHeaders } from '../../../server/proxy/forward-headers.js';
import { parseForwardTarget } from '../../../server/proxy/forward-target.js';

const TARGET = parseForwardTarget('http://127.0.0.1:9001/base');

function fakeRequest(rawHeaders: string[], method = 'GET', remoteAddress = '10.0.0.5'): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
  return { rawHeaders, method, socket } as unknown as IncomingMessage;
}

function policy(overrides: Partial<RequestHeaderPolicy> = {}): RequestHeaderPolicy {
  const customHeaders = overrides.customHeaders ?? [];
  return {
    xForward: true,
    changeOrigin: false,
    customHeaders,
    customNames: new Set(customHeaders.map(([name]) => name.toLowerCase())),
    ...overrides,
  };
}

function asObject(raw: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < raw.length; i += 2) (out[(raw[i] as string).toLowerCase()] ??= []).push(raw[i + 1] as string);
  return out;
}

describe('upstreamRequestHeaders', () => {
  it('keeps Host and the other headers, appends X-Forwarded-* and sets X-Forwarded-Host when absent', () => {
    const body = { hasBody: true };
    const raw = upstreamRequestHeaders(
      fakeRequest(['Host', 'class.example:8000', 'Accept', 'text/html', 'X-Forwarded-For', '1.2.3.4', 'X-Forwarded-Proto', 'https']),
      TARGET,
      policy(),
      body,
    );
    const headers = asObject(raw);
    assert.deepEqual(headers.host, ['class.example:8000']);
    assert.deepEqual(headers.accept, ['text/html']);
    assert.deepEqual(headers['x-forwarded-for'], ['1.2.3.4,10.0.0.5']);
    assert.deepEqual(headers['x-forwarded-proto'], ['https,http']);
    assert.deepEqual(headers['x-forwarded-port'], ['8000']);
    assert.deepEqual(headers['x-forwarded-host'], ['class.example:8000']);
    assert.equal(body.hasBody, false);
    // Original case is kept for the client's own headers.
    assert.ok(raw.includes('Accept'));
  });

  it('keeps an existing X-Forwarded-Host and defaults the port by scheme', () => {
    const headers = asObject(upstreamRequestHeaders(fakeRequest(['Host', 'h', 'X-Forwarded-Host', 'outer']), TARGET, policy(), { hasBody: false }));
    assert.deepEqual(headers['x-forwarded-host'], ['outer']);
    assert.deepEqual(headers['x-forwarded-port'], ['80']);
  });

  it('drops the client connection’s hop-by-hop headers and an answered Expect', () => {
    const headers = asObject(
      upstreamRequestHeaders(
        fakeRequest(['Host', 'h', 'Connection', 'close', 'Keep-Alive', 'timeout=5', 'Proxy-Connection', 'x', 'Expect', '100-continue', 'Trailer', 'x', 'Upgrade', 'h2c']),
        TARGET,
        policy(),
        { hasBody: false },
      ),
    );
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'expect', 'trailer', 'upgrade']) assert.equal(headers[name], undefined, name);
  });

  it('adds nothing with xForward off and passes the client’s X-Forwarded-* as they are', () => {
    const headers = asObject(upstreamRequestHeaders(fakeRequest(['Host', 'h', 'X-Forwarded-For', '1.2.3.4']), TARGET, policy({ xForward: false }), { hasBody: false }));
    assert.deepEqual(headers['x-forwarded-for'], ['1.2.3.4']);
    assert.equal(headers['x-forwarded-proto'], undefined);
  });

  it('lets custom headers replace the client’s, Host and X-Forwarded-* included', () => {
    const customHeaders: Array<[string, string]> = [
      ['K1', 'v1'],
      ['Host', 'forced:1'],
      ['X-Forwarded-Proto', 'https'],
    ];
    const headers = asObject(upstreamRequestHeaders(fakeRequest(['Host', 'h', 'k1', 'client']), TARGET, policy({ customHeaders }), { hasBody: false }));
    assert.deepEqual(headers.k1, ['v1']);
    assert.deepEqual(headers.host, ['forced:1']);
    assert.deepEqual(headers['x-forwarded-proto'], ['https']);
    assert.deepEqual(headers['x-forwarded-host'], ['h']);
  });

  it('sends the target host with changeOrigin, and to HTTP/1.0 clients without a Host', () => {
    assert.deepEqual(asObject(upstreamRequestHeaders(fakeRequest(['Host', 'h']), TARGET, policy({ changeOrigin: true }), { hasBody: false })).host, ['127.0.0.1:9001']);
    assert.deepEqual(asObject(upstreamRequestHeaders(fakeRequest([]), TARGET, policy(), { hasBody: false })).host, ['127.0.0.1:9001']);
  });

  it('notices a body and gives a body-less DELETE an explicit empty one', () => {
    const withLength = { hasBody: false };
    upstreamRequestHeaders(fakeRequest(['Host', 'h', 'Content-Length', '12'], 'POST'), TARGET, policy(), withLength);
    assert.equal(withLength.hasBody, true);
    const chunked = { hasBody: false };
    upstreamRequestHeaders(fakeRequest(['Host', 'h', 'Transfer-Encoding', 'chunked'], 'POST'), TARGET, policy(), chunked);
    assert.equal(chunked.hasBody, true);
    const empty = { hasBody: true };
    assert.deepEqual(asObject(upstreamRequestHeaders(fakeRequest(['Host', 'h'], 'DELETE'), TARGET, policy(), empty))['content-length'], ['0']);
    assert.equal(empty.hasBody, false);
  });
});

describe('clientResponseHeaders', () => {
  it('drops the upstream connection’s hop-by-hop headers and keeps repeated ones', () => {
    const raw = ['Content-Type', 'text/plain', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'];
    assert.deepEqual(clientResponseHeaders(raw), ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });
});

describe('rewriteLocation', () => {
  const target = parseForwardTarget('http://127.0.0.1:8912');
  it('rewrites redirects to the target only', () => {
    assert.equal(rewriteLocation('https://127.0.0.1:8912/whatever', 301, target, 'proxy:55556', true, 'https'), 'https://proxy:55556/whatever');
    assert.equal(rewriteLocation('http://127.0.0.1:8912/x', 302, target, 'proxy:1', false, 'https'), 'https://127.0.0.1:8912/x');
    assert.equal(rewriteLocation('http://foo.com:12345/whatever', 301, target, 'proxy:1', true, undefined), undefined);
    assert.equal(rewriteLocation('http://127.0.0.1:8912/x', 200, target, 'proxy:1', true, undefined), undefined);
  });
});
