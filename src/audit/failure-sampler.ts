import { LRUCache } from "lru-cache";
import type { AuditEventType } from "./audit-event.js";

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
 * Refusals that are security alerts about a credential, not noise: never sampled away. Each one
 * follows a valid signature by a registered credential's private key over a fresh challenge (the
 * assertion core raises them only after verifying it), so no one can mint them freely: only the
 * holder of a passkey (or of its clone) can, one per challenge, and challenges are under the
 * begin limits. Refusals raised before the signature check (e.g. AUTHENTICATOR_REVOKED: a model
 * MDS condemns, decided from the credential id alone or from attestation a registrant supplies)
 * stay sampled.
 */
const ALERT_REASONS: ReadonlySet<string> = new Set(["CREDENTIAL_CLONE_SUSPECTED", "BACKUP_ELIGIBILITY_MISMATCH", "BACKUP_ELIGIBLE_REFUSED"]);

export function isSecurityAlert(type: AuditEventType, reason: string): boolean {
  return type === "clone_suspected" || ALERT_REASONS.has(reason);
}

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
