/**
 * At most N servers start at once; the rest wait their turn, first come first served, and are told
 * their place in the line as it moves (the progress page shows it). Starting is when a Jupyter
 * server costs the most CPU: twenty at once on a laptop makes every one of them slow to come up.
 */
export class StartQueue {
  private running = 0;
  private readonly waiting: { grant: () => void; moved: (position: number) => void }[] = [];

  constructor(private limit: number) {}

  /**
   * Changes how many starts may run at once. A higher limit lets waiting starts go ahead now; a lower
   * one stops none that are running, and holds new ones until enough have finished.
   */
  setLimit(limit: number): void {
    this.limit = limit;
    this.grantFreeSlots();
  }

  /**
   * Resolves with a `release` function once a slot is free. `moved(position)` is called with the
   * 1-based place in the line while waiting (not at all when a slot is free at once). If `signal`
   * aborts while waiting, the wait ends with its reason and the place is given up.
   */
  acquire(moved: (position: number) => void, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', abort);
          resolve(this.releaser());
        },
        moved,
      };
      const abort = () => {
        const index = this.waiting.indexOf(entry);
        if (index !== -1) this.waiting.splice(index, 1);
        this.announcePositions(index);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.waiting.push(entry);
      moved(this.waiting.length);
    });
  }

  /** How many starts are waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.grantFreeSlots();
    };
  }

  /** Gives free slots to the first in line, and tells the rest their new places. */
  private grantFreeSlots(): void {
    let granted = 0;
    while (this.running < this.limit && this.waiting.length > 0) {
      this.running++;
      this.waiting.shift()?.grant();
      granted++;
    }
    if (granted > 0) this.announcePositions(0);
  }

  private announcePositions(from: number): void {
    for (let i = Math.max(0, from); i < this.waiting.length; i++) this.waiting[i]?.moved(i + 1);
  }
}
