import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardedPath, hostKey, joinUrl, routingPath, segmentCount, stripSegments } from '../../../server/proxy/request-path.js';

/** CHP's own rule, for comparison: WHATWG URL on every request. */
function whatwg(url: string): string {
  const parsed = new URL(url.startsWith('/') ? `http://h.invalid${url}` : url, 'http://h.invalid');
  return parsed.pathname + parsed.search;
}

describe('forwardedPath', () => {
  it('passes ordinary request targets through as the very same string', () => {
    for (const url of ['/', '/user/alice/lab', '/user/alice/api/kernels?token=x&a=b', '/a.b/c..d/.e/f.', '/x|y@z~!$&()*+,;=:']) {
      assert.equal(forwardedPath(url), url, url);
      assert.equal(forwardedPath(url), whatwg(url), `agrees with URL parsing: ${url}`);
    }
  });

  it('normalises as WHATWG URL parsing does wherever it would change something', () => {
    const cases: Array<[string, string]> = [
      ['/user/x/../foo/y', '/user/foo/y'],
      ['/user/x/%2e%2e/foo', '/user/foo'],
      ['/user/./x/.', '/user/x/'],
      ['/a\\b', '/a/b'],
      ['/a b"c<d>e`f{g}', '/a%20b%22c%3Cd%3Ee%60f%7Bg%7D'],
      ["/q?a='b c'", '/q?a=%27b%20c%27'],
      ['/x?', '/x'],
      ['/x#frag', '/x'],
      ['/caf\u00e9', '/caf%C3%A9'],
      ['http://elsewhere.example/user/foo?q=1', '/user/foo?q=1'],
      ['*', '/*'],
    ];
    for (const [url, expected] of cases) assert.equal(forwardedPath(url), expected, url);
  });

  it('keeps a leading // as a path (never a host), so routing and forwarding agree', () => {
    assert.equal(forwardedPath('//user/foo'), '//user/foo');
  });

  it('keeps escapes as sent', () => {
    assert.equal(forwardedPath('/b%40r/b%20r/x%2Fy?q=%2F'), '/b%40r/b%20r/x%2Fy?q=%2F');
  });
});

describe('routingPath', () => {
  it('is the decoded pathname without the query', () => {
    assert.equal(routingPath('/user/foo%40bar/x?y=%2F'), '/user/foo@bar/x');
    assert.equal(routingPath('/user/foo%2Fbar'), '/user/foo/bar');
    assert.equal(routingPath('/plain?x'), '/plain');
  });

  it('is undefined for a malformed escape', () => {
    assert.equal(routingPath('/user/%E0%A4%A'), undefined);
    assert.equal(routingPath('/%'), undefined);
  });
});

describe('hostKey', () => {
  it('drops the port and lower-cases the name', () => {
    assert.equal(hostKey('A.Example.COM:8000'), '/a.example.com');
    assert.equal(hostKey('a.example.com'), '/a.example.com');
    assert.equal(hostKey('[::1]:8000'), '/[::1]');
  });
});

describe('joinUrl', () => {
  it('joins as http-proxy-3 does for CHP', () => {
    const cases: Array<[string, string, string]> = [
      ['/', '/bar/rest', '/bar/rest'],
      ['/foo', '/bar/rest/of/it', '/foo/bar/rest/of/it'],
      ['/foo', '/bar?query=foo', '/foo/bar?query=foo'],
      ['/base?tq=1', '/pq/a?q=2', '/base/pq/a?tq=1&q=2'],
      ['/b/', '/base', '/b/base'],
      ['/b/', '/base/', '/b/base/'],
      ['/foo', '', '/foo'],
      ['/foo', '?x=1', '/foo?x=1'],
      ['/', '', '/'],
      ['/', '?x', '/?x'],
      ['/foo', 'rest', '/foo/rest'],
      ['/foo//', '/bar', '/foo//bar'],
    ];
    for (const [first, second, expected] of cases) assert.equal(joinUrl(first, second), expected, `${first} + ${second}`);
  });
});

describe('stripSegments', () => {
  it('drops the route prefix by whole segments', () => {
    assert.equal(stripSegments('/bar/rest/of/it', 1), '/rest/of/it');
    assert.equal(stripSegments('/bar', 1), '');
    assert.equal(stripSegments('/bar/', 1), '/');
    assert.equal(stripSegments('/bar?x=1', 1), '?x=1');
    assert.equal(stripSegments('/b%40r/b%20r/rest', 2), '/rest');
    assert.equal(stripSegments('/x/y', 0), '/x/y');
    assert.equal(stripSegments('/a//b/c', 3), '/c');
  });

  it('counts an encoded slash as a separator, as the decoded route key does', () => {
    assert.equal(stripSegments('/enc%2Fslash/x', 2), '/x');
    assert.equal(stripSegments('/enc%2fslash/x', 1), '%2fslash/x');
  });
});

describe('segmentCount', () => {
  it('counts as the trie splits', () => {
    assert.equal(segmentCount('/'), 0);
    assert.equal(segmentCount('/a'), 1);
    assert.equal(segmentCount('/a/b c/d'), 3);
    assert.equal(segmentCount('//a/'), 1);
  });
});
