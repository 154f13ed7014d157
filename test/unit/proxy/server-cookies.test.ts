import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scopeServerCookie, studentServerCookies } from '../../../server/proxy/server-cookies.js';
import type { Route } from '../../../server/proxy/route-table.js';

describe('cookies a student’s server sets', () => {
  const cases: [string, string, string | undefined][] = [
    ['the hub’s login cookie is dropped: it would log the teacher in as the student', 'lectern-session=ANN; Path=/hub/; HttpOnly', undefined],
    ['the gate’s cookie is dropped too', 'lectern-server=x; Path=/user/ann/', undefined],
    ['Notebook 6’s _xsrf at / is narrowed to the server', '_xsrf=2|a|b; Path=/', '_xsrf=2|a|b; Path=/user/ann/'],
    ['a classmate’s cookie name at her path is narrowed to this server', 'jupyterhub-user-anna=stolen; Path=/user/anna/; HttpOnly', 'jupyterhub-user-anna=stolen; Path=/user/ann/; HttpOnly'],
    ['a prefix of the server’s path that would reach anna’s is narrowed', 'x=1; Path=/user/an', 'x=1; Path=/user/ann/'],
    ['a Domain is dropped, so the cookie stays with its host', 'pref=dark; Domain=192.168.1.20; Path=/user/ann/lab', 'pref=dark; Path=/user/ann/lab'],
    ['its own path, with or without the slash, is kept', 'a=1; path=/user/ann', 'a=1; Path=/user/ann'],
    ['no Path (the request’s folder, inside the server) is kept as it is', 'plain=1; SameSite=Lax', 'plain=1; SameSite=Lax'],
    ['a cookie without a name is dropped', '=nameless; Path=/', undefined],
  ];
  for (const [what, setCookie, passed] of cases) {
    it(what, () => assert.equal(scopeServerCookie(setCookie, '/user/ann/'), passed));
  }

  it('vets only the routes of students’ servers, whose prefixes it encodes as browsers send them', () => {
    const route = (data: Record<string, unknown>): Route => ({ prefix: '/user/zoë', target: 'http://127.0.0.1:1', data, lastActivity: 0 });
    assert.equal(studentServerCookies(route({ user: 'zoë', server_name: '' }), 'x=1; Path=/'), 'x=1; Path=/user/zo%C3%AB/');
    assert.equal(studentServerCookies(route({}), 'lectern-session=kept; Path=/'), 'lectern-session=kept; Path=/', 'a route added through the CHP API is not a student’s');
  });
});
