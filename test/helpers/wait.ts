/** Waiting in tests for what a correct hub does sooner or later, without a timed assertion. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Resolves with `check`'s first truthy answer, asking every `everyMs`; throws `timed out waiting for
 * <what>` after `ms`: long enough that only a hub that will never get there runs out of it.
 */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 120_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
