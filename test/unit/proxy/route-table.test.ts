import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizePrefix, RouteTable } from '../../../server/proxy/route-table.js';

const A = 'http://127.0.0.1:9001';
const B = 'http://127.0.0.1:9002';

describe('normalizePrefix', () => {
  it('adds a leading slash and drops one trailing slash', () => {
    assert.equal(normalizePrefix('/user/alice/'), '/user/alice');
    assert.equal(normalizePrefix('/user/alice'), '/user/alice');
    assert.equal(normalizePrefix('user/alice'), '/user/alice');
    assert.equal(normalizePrefix('/'), '/');
    assert.equal(normalizePrefix(''), '/');
  });

  it('keeps case and escapes as they are', () => {
    assert.equal(normalizePrefix('/User/Al%20ice'), '/User/Al%20ice');
  });
});

describe('RouteTable', () => {
  it('treats /user/alice/ and /user/alice as one key', () => {
    const table = new RouteTable();
    table.add('/user/alice/', A);
    table.add('/user/alice', B);
    assert.equal(table.size, 1);
    assert.equal(table.get('/user/alice/')?.target, B);
    assert.equal(table.get('user/alice')?.prefix, '/user/alice');
  });

  it('stores data and sets lastActivity on add', () => {
    const table = new RouteTable();
    const before = Date.now();
    const data = { user: 'alice' };
    const route = table.add('/user/alice', A, data);
    data.user = 'mallory';
    assert.deepEqual(route.data, { user: 'alice' });
    assert.ok(route.lastActivity >= before && route.lastActivity <= Date.now());
    assert.deepEqual(new RouteTable().add('/x', A).data, {});
  });

  it('matches the longest prefix by whole segments', () => {
    const table = new RouteTable();
    table.add('/user', A);
    table.add('/user/foo', B);
    assert.equal(table.match('/user/foo')?.prefix, '/user/foo');
    assert.equal(table.match('/user/foo/')?.prefix, '/user/foo');
    assert.equal(table.match('/user/foo/x/y')?.prefix, '/user/foo');
    assert.equal(table.match('/user/foobar')?.prefix, '/user');
    assert.equal(table.match('/user/foob')?.prefix, '/user');
    assert.equal(table.match('/user')?.prefix, '/user');
    assert.equal(table.match('/users'), undefined);
    assert.equal(table.match('/'), undefined);
  });

  it('does not let /user/foo match /user/foobar when nothing shorter exists', () => {
    const table = new RouteTable();
    table.add('/user/foo', A);
    assert.equal(table.match('/user/foobar'), undefined);
    assert.equal(table.match('/user/fo'), undefined);
  });

  it('matches case-sensitively', () => {
    const table = new RouteTable();
    table.add('/user/Foo', A);
    assert.equal(table.match('/user/foo'), undefined);
    assert.equal(table.match('/user/Foo/x')?.target, A);
  });

  it('keeps a deeper route preferred over a shallower one regardless of insertion order', () => {
    const table = new RouteTable();
    table.add('/b/c/d', B);
    table.add('/b/c', A);
    assert.equal(table.match('/b/c/dword')?.prefix, '/b/c');
    assert.equal(table.match('/b/c/d/e')?.prefix, '/b/c/d');
  });

  it('lets a / route match everything else', () => {
    const table = new RouteTable();
    table.add('/', A);
    table.add('/user/foo', B);
    assert.equal(table.match('/')?.prefix, '/');
    assert.equal(table.match('/hub/home')?.prefix, '/');
    assert.equal(table.match('/user/foobar')?.prefix, '/');
    assert.equal(table.match('/user/foo/tree')?.prefix, '/user/foo');
  });

  it('deletes routes and falls back to the next shorter prefix', () => {
    const table = new RouteTable();
    table.add('/user', A);
    table.add('/user/foo/', B);
    assert.equal(table.delete('/user/foo/'), true);
    assert.equal(table.delete('/user/foo'), false);
    assert.equal(table.size, 1);
    assert.equal(table.get('/user/foo'), undefined);
    assert.equal(table.match('/user/foo/x')?.prefix, '/user');
    assert.equal(table.delete('/user'), true);
    assert.equal(table.match('/user/foo/x'), undefined);
    assert.equal(table.size, 0);
  });

  it('keeps deeper routes when a shallower one on the same branch is deleted', () => {
    const table = new RouteTable();
    table.add('/a', A);
    table.add('/a/b/c', B);
    table.delete('/a');
    assert.equal(table.match('/a/b/c/d')?.prefix, '/a/b/c');
    assert.equal(table.match('/a/b'), undefined);
  });

  it('lists routes in the order they were first added', () => {
    const table = new RouteTable();
    table.add('/b', A);
    table.add('/a', A);
    table.add('/b', B);
    assert.deepEqual(
      table.list().map((route) => [route.prefix, route.target]),
      [
        ['/b', B],
        ['/a', A],
      ],
    );
  });

  it("ignores extra leading and trailing slashes of a request path, as CHP's trie does", () => {
    const table = new RouteTable();
    table.add('/user/foo', A);
    assert.equal(table.match('//user/foo//')?.prefix, '/user/foo');
    assert.equal(table.match('/user//foo'), undefined, 'an inner empty segment is a segment');
  });

  it("matches CHP's trie cases", () => {
    const table = new RouteTable();
    for (const key of ['/1', '/2', '/a/b/c/d', '/a/b/d', '/a/b/e', '/b', '/b/c', '/b/c/d']) table.add(key, A);
    assert.equal(table.match('/not/found'), undefined);
    assert.equal(table.match('/a'), undefined);
    assert.equal(table.match('/a/b/c'), undefined);
    assert.equal(table.match('/1/etc/etc/')?.prefix, '/1');
    assert.equal(table.match('/a/b/c/d/e/f')?.prefix, '/a/b/c/d');
    assert.equal(table.match('/b/c/d/word')?.prefix, '/b/c/d');
    assert.equal(table.match('/b/c/dword')?.prefix, '/b/c');
    table.add('/', B);
    assert.equal(table.match('')?.prefix, '/');
    table.add('/prefix/sub/tree', A);
    assert.equal(table.match('/prefix/sub')?.prefix, '/');
    table.add('/prefix', A);
    assert.equal(table.match('/prefix/sub')?.prefix, '/prefix');
  });

  it('keeps //x and /x apart as keys but lets either serve requests while the other is deleted', () => {
    const table = new RouteTable();
    table.add('/trail', A);
    table.add('//trail', B);
    assert.equal(table.size, 2);
    assert.equal(table.match('/trail/x')?.target, B);
    table.delete('//trail');
    assert.equal(table.match('/trail/x')?.target, A, 'the remaining twin still routes');
    table.add('//trail', B);
    table.delete('/trail');
    assert.equal(table.match('/trail/x')?.target, B);
    table.delete('//trail');
    assert.equal(table.match('/trail/x'), undefined);
  });

  it('accepts http, https, ws, wss and http+unix targets', () => {
    const table = new RouteTable();
    for (const target of ['http://127.0.0.1:1', 'https://example.org/base', 'ws://[::1]:8', 'wss://h', 'http+unix://%2Ftmp%2Fs.sock']) {
      assert.equal(table.add('/t', target).target, target);
    }
  });

  it('rejects invalid targets with a TypeError naming them, and adds nothing', () => {
    const table = new RouteTable();
    for (const target of ['', '127.0.0.1:8888', '/relative', 'ftp://host/', 'file:///etc/passwd', 'http://']) {
      assert.throws(
        () => table.add('/user/x', target),
        (error: unknown) =>
          error instanceof TypeError && error.message.includes(JSON.stringify(target)),
        `target ${JSON.stringify(target)}`,
      );
    }
    assert.equal(table.size, 0);
    assert.equal(table.match('/user/x'), undefined);
  });
});
