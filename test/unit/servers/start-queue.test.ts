import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StartQueue } from '../../../server/servers/start-queue.js';

/** Starts waiting in `queue`, recording the places each is told and whether it got a slot. */
function waiter(queue: StartQueue) {
  const places: number[] = [];
  let release: (() => void) | undefined;
  const granted = queue.acquire((place) => places.push(place)).then((releaseSlot) => {
    release = releaseSlot;
  });
  return { places, granted, release: () => release?.(), isGranted: () => release !== undefined };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('StartQueue', () => {
  it('runs up to its limit at once, first come first served', async () => {
    const queue = new StartQueue(2);
    const [a, b, c, d] = [waiter(queue), waiter(queue), waiter(queue), waiter(queue)];
    await settle();
    assert.deepEqual([a, b, c, d].map((w) => w.isGranted()), [true, true, false, false]);
    assert.deepEqual(d?.places, [2]);
    a?.release();
    await settle();
    assert.ok(c?.isGranted());
    assert.deepEqual(d?.places, [2, 1], 'told its new place');
  });

  it('lets waiting starts go ahead at once when the limit is raised', async () => {
    const queue = new StartQueue(1);
    const waiters = [waiter(queue), waiter(queue), waiter(queue), waiter(queue)];
    await settle();
    queue.setLimit(3);
    await settle();
    assert.deepEqual(waiters.map((w) => w.isGranted()), [true, true, true, false]);
    assert.deepEqual(waiters[3]?.places, [3, 1]);
    assert.equal(queue.queued, 1);
  });

  it('stops no running start when the limit is lowered, and holds new ones until enough finish', async () => {
    const queue = new StartQueue(3);
    const running = [waiter(queue), waiter(queue), waiter(queue)];
    await settle();
    queue.setLimit(1);
    const next = waiter(queue);
    running[0]?.release();
    await settle();
    assert.ok(!next.isGranted(), 'two still run, over the new limit of one');
    running[1]?.release();
    await settle();
    assert.ok(!next.isGranted());
    running[2]?.release();
    await settle();
    assert.ok(next.isGranted());
  });
});
