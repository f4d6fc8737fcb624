/** Runs functions one at a time per key. */
export type KeyedLock = <T>(key: string, run: () => Promise<T>) => Promise<T>;

/**
 * A lock per key, in call order; a key's entry goes away when its last function settles,
 * so the map holds only keys in use.
 * @example
 * const serial = createKeyedLock();
 * await serial('order:12', () => setStatus(12, 70));
 */
export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, run: () => Promise<T>): Promise<T> => {
    const before = tails.get(key) ?? Promise.resolve();
    const result = before.then(run, run);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
