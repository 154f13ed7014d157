/** A clock for a test hub (StartOptions.clock): real time, plus however far the test moved it on. */
export class TestClock {
  private offset = 0;
  readonly now = (): number => Date.now() + this.offset;

  /** Moves the hub's time on by `ms`, as if that long had passed. */
  advance(ms: number): void {
    this.offset += ms;
  }
}
