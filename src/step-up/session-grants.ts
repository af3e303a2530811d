import { LRUCache } from "lru-cache";
import type { IssuedGrant } from "../tokens/step-up-grant.js";

/** A reused grant keeps at least nine tenths of its lifetime, and is never older than this. */
const MAX_REUSE_MS = 30_000;

/**
 * The grants of token-only ALLOWs, reused for a short while. Such a grant vouches for nothing but
 * its session token (`ast: false`: a single-use requirement never spends it, nothing is recorded
 * under its jti), so the same session asking again for the same operation gets the same grant
 * instead of a new ES256 signature, which was ≈ 30 % of an ext_authz Check (bench/NOTES.md). It is
 * reused for a tenth of the grant lifetime at most (≤ 30 s, by the service's clock), and keyed by
 * the signing key, so a rotation signs anew. Revocation is unaffected: every use of a grant checks
 * its session, and a reused grant is one the upstream could have held anyway.
 */
export class SessionGrants {
  readonly #reuseMs: number;
  readonly #grants: LRUCache<string, { readonly issued: IssuedGrant; readonly at: number }>;

  constructor(grantTtlSeconds: number, maxEntries = 4096) {
    this.#reuseMs = Math.min(MAX_REUSE_MS, grantTtlSeconds * 100);
    this.#grants = new LRUCache({ max: maxEntries });
  }

  /** The grant issued for this key within the reuse window, else `issue()`'s, remembered. */
  async reuse(key: { tenant: string; sessionId: string; operation: string; kid: string }, now: number, issue: () => Promise<IssuedGrant>): Promise<IssuedGrant> {
    const id = `${key.tenant}\n${key.sessionId}\n${key.operation}\n${key.kid}`;
    const held = this.#grants.get(id);
    if (held && now >= held.at && now - held.at < this.#reuseMs) return held.issued;
    const issued = await issue();
    this.#grants.set(id, { issued, at: now });
    return issued;
  }
}
