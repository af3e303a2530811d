import { LRUCache } from "lru-cache";

interface Window {
  count: number;
  readonly endsAt: number;
}

/**
 * Counts calls per key in fixed windows that start at a key's first call. Memory is bounded: at
 * most `maxKeys` windows are kept (lru-cache, no timer per key), and beyond that the least
 * recently used are forgotten — a flood of distinct keys makes a limit forget, never refuse more.
 */
export class FixedWindowCounter {
  readonly #windows: LRUCache<string, Window>;

  constructor(
    private readonly limit: number,
    maxKeys: number,
    private readonly clock: () => number,
  ) {
    this.#windows = new LRUCache({ max: maxKeys });
  }

  /** Counts one call for `key`: 0 when admitted, else the milliseconds until its window ends. */
  take(key: string, windowMs: number): number {
    const now = this.clock();
    const window = this.#windows.get(key);
    if (!window || window.endsAt <= now) {
      this.#windows.set(key, { count: 1, endsAt: now + windowMs });
      return 0;
    }
    if (window.count >= this.limit) return window.endsAt - now;
    window.count++;
    return 0;
  }
}
