import { LRUCache } from "lru-cache";

/** How many failure events a replica writes per window: per source, and for all sources together (0: no cap). */
export interface FailureAuditSettings {
  readonly perSource: number;
  readonly total: number;
  readonly windowSeconds: number;
}

/** 1 a second per source on average, bursts of 60; 50 WCU a second per replica at most. */
export const DEFAULT_FAILURE_AUDIT: FailureAuditSettings = Object.freeze({ perSource: 60, total: 3000, windowSeconds: 60 });

/** Sources remembered at once; beyond that the least recently seen start afresh. */
const MAX_SOURCES = 10_000;

interface Window {
  written: number;
  /** Refusals of this source not written since its last written event. */
  suppressed: number;
  readonly endsAt: number;
}

export type FailureVerdict = { readonly write: true; readonly suppressedBefore: number } | { readonly write: false };

/**
 * Decides which refusals get an audit event. Every refusal is counted in metrics, but a flood of
 * them (forged assertions relayed by a caller, denied calls in mesh mode) must not become a flood
 * of DynamoDB writes: that would throttle the audit table, and with it the sign-ins whose success
 * events must be written. Per fixed window, each source gets `perSource` events and all sources
 * together `total`; the rest are only counted, and a source's next written event says how many of
 * its refusals were left out before it. Pure: the clock is injected, memory is bounded.
 */
export class FailureSampler {
  readonly #sources = new LRUCache<string, Window>({ max: MAX_SOURCES });
  /** All sources together (a spray of distinct client IPs is many sources). */
  #all = { written: 0, endsAt: -Infinity };

  constructor(
    private readonly settings: FailureAuditSettings,
    private readonly clock: () => number,
  ) {}

  admit(source: string): FailureVerdict {
    const now = this.clock();
    const endsAt = now + this.settings.windowSeconds * 1000;
    if (this.#all.endsAt <= now) this.#all = { written: 0, endsAt };
    let window = this.#sources.get(source);
    if (!window || window.endsAt <= now) {
      window = { written: 0, suppressed: window?.suppressed ?? 0, endsAt };
      this.#sources.set(source, window);
    }
    const full = (written: number, cap: number) => cap > 0 && written >= cap;
    if (full(window.written, this.settings.perSource) || full(this.#all.written, this.settings.total)) {
      window.suppressed++;
      return { write: false };
    }
    const suppressedBefore = window.suppressed;
    window.suppressed = 0;
    window.written++;
    this.#all.written++;
    return { write: true, suppressedBefore };
  }
}
