/**
 * Group commit: calls made in the same tick are flushed together, in one store call.
 * Each caller gets the whole flush's answer and picks out its own part.
 */
export class Batcher<I, R> {
  #items: I[] = [];
  #waiters: { resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  #scheduled = false;

  constructor(private readonly flush: (items: I[]) => Promise<R>) {}

  /** Adds items to the next flush; resolves with that flush's result. */
  add(items: readonly I[]): Promise<R> {
    for (const item of items) this.#items.push(item);
    const done = new Promise<R>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.#run());
    }
    return done;
  }

  async #run(): Promise<void> {
    const items = this.#items;
    const waiters = this.#waiters;
    this.#items = [];
    this.#waiters = [];
    this.#scheduled = false;
    try {
      const result = await this.flush(items);
      for (const waiter of waiters) waiter.resolve(result);
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
    }
  }
}
