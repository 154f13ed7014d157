import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopback, LoginThrottle, type ThrottleDecision, type ThrottleOptions } from '../../../server/auth/throttle.js';

const STUDENT = '10.0.0.7';
const OTHER = '10.0.0.8';

function throttle(options: ThrottleOptions = {}) {
  const clock = { now: 1_000_000 };
  const limiter = new LoginThrottle({ clock: () => clock.now, ...options });
  return {
    limiter,
    advance: (ms: number) => (clock.now += ms),
    /** A failed attempt (counted when it begins), asserting it was let through. */
    fail(name: string, address = STUDENT) {
      assert.equal(limiter.attempt(name, address).allowed, true, `${name} from ${address} should be let through`);
    },
  };
}

function refused(decision: ThrottleDecision): { retryAfterSeconds: number; scope: string } {
  assert.equal(decision.allowed, false, 'expected a refusal');
  return decision as { retryAfterSeconds: number; scope: string };
}

describe('LoginThrottle', () => {
  it('lets five failures through, then makes each attempt wait twice as long as the last, up to 60 s', () => {
    const t = throttle();
    for (let i = 0; i < 5; i++) t.fail('teacher');
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      const refusal = refused(t.limiter.attempt('teacher', STUDENT));
      assert.equal(refusal.scope, 'key');
      waits.push(refusal.retryAfterSeconds);
      t.advance(refusal.retryAfterSeconds * 1000);
      t.fail('teacher');
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it('counts each name and address apart', () => {
    const t = throttle();
    for (let i = 0; i < 5; i++) t.fail('alice');
    refused(t.limiter.attempt('alice', STUDENT));
    assert.equal(t.limiter.attempt('alice', OTHER).allowed, true, 'another machine');
    assert.equal(t.limiter.attempt('bob', STUDENT).allowed, true, 'another name');
  });

  it('starts a name afresh after a success', () => {
    const t = throttle();
    for (let i = 0; i < 4; i++) t.fail('alice');
    const right = t.limiter.attempt('alice', STUDENT);
    assert.ok(right.allowed);
    t.limiter.succeeded(right.attempt);
    for (let i = 0; i < 5; i++) t.fail('alice');
    refused(t.limiter.attempt('alice', STUDENT));
  });

  it('counts an attempt when it begins, so parallel guesses cannot outrun the password check', () => {
    const t = throttle();
    const burst = Array.from({ length: 20 }, () => t.limiter.attempt('alice', STUDENT));
    assert.equal(burst.filter((decision) => decision.allowed).length, 5);
  });

  it('forgets a name left alone for 15 minutes', () => {
    const t = throttle();
    for (let i = 0; i < 5; i++) t.fail('alice');
    t.advance(15 * 60_000);
    for (let i = 0; i < 5; i++) t.fail('alice');
  });

  it('refuses other machines once the hub sees too many failures a minute, never this machine', () => {
    const t = throttle({ hubLimit: 10, hubWindowMs: 60_000 });
    // Spread over names and addresses, as a guessing script would.
    for (let i = 0; i < 10; i++) t.fail(`student${i}`, `10.0.1.${i}`);
    t.advance(20_000);
    const refusal = refused(t.limiter.attempt('someone', '10.0.2.1'));
    assert.equal(refusal.scope, 'hub');
    assert.equal(refusal.retryAfterSeconds, 40, 'until the oldest failure leaves the minute');
    for (const loopback of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      assert.equal(t.limiter.attempt('teacher', loopback).allowed, true, loopback);
    }
    t.advance(40_000);
    assert.equal(t.limiter.attempt('someone', '10.0.2.1').allowed, true, 'the minute has passed');
  });

  it('never counts loopback failures, nor successes, toward the hub-wide limit', () => {
    const t = throttle({ hubLimit: 3 });
    for (let i = 0; i < 10; i++) t.fail(`teacher${i}`, '127.0.0.1');
    for (let i = 0; i < 10; i++) {
      const decision = t.limiter.attempt(`student${i}`, `10.0.1.${i}`);
      assert.ok(decision.allowed, `student${i}`);
      t.limiter.succeeded(decision.attempt);
    }
    assert.equal(t.limiter.attempt('someone', '10.0.2.1').allowed, true);
  });

  it('remembers a bounded number of names, forgetting the quietest first', () => {
    const t = throttle({ maxKeys: 3 });
    for (let i = 0; i < 5; i++) t.fail('alice');
    t.advance(1);
    for (const name of ['b', 'c', 'd']) t.fail(name);
    assert.equal(t.limiter.attempt('alice', STUDENT).allowed, true, 'alice was forgotten');
  });
});

describe('isLoopback', () => {
  it('knows this machine in IPv4, IPv6 and IPv4-mapped form', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(address), true, address);
    for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '', '128.0.0.1', 'fe80::1', '::', '127.0.0.1.evil']) {
      assert.equal(isLoopback(address), false, address);
    }
  });
});
