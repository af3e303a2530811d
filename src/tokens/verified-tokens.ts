import type { JWTPayload } from "jose";
import { LRUCache } from "lru-cache";
import { verifyJwt, type VerifiedJwt } from "./jwt.js";
import type { KeyRing } from "./key-ring.js";

/** The default bound of VERIFIED_TOKEN_CACHE_MAX_ENTRIES: ≈ 1 KiB an entry. */
export const DEFAULT_VERIFIED_TOKEN_CACHE_MAX = 10_000;

/**
 * Verifies session tokens and step-up grants against the key ring, remembering each token that
 * verified: a signed token cannot change, so until it expires a repeat (every ext_authz Check and
 * VerifyOperation of one session) costs a map lookup instead of a signature check.
 *
 * What the cache holds is the signature and claims verdict only; revocation and every other
 * decision are the callers', made again on every call. An entry is served only
 * - for the same bytes: the key is the whole token string (with its type), so a token that
 *   differs in one byte is a miss and is verified;
 * - before the token's `exp` at the caller's `now` (the same rule as jose: valid while now < exp);
 * - while the ring still publishes the key that signed it at `now` (a key past its retention);
 * - until the ring is replaced (a reload, rotation or removed key): the whole cache is dropped,
 *   so a token signed by a removed key is refused from the reload on.
 * Only successes are cached: refused tokens are verified (and refused) every time, so garbage
 * sprayed at the service never evicts a good entry, and an attacker can fill the cache only with
 * tokens the ring signed. The LRU bound caps memory; `maxEntries` 0 turns the cache off.
 */
export class VerifiedTokens {
  readonly #cache: LRUCache<string, VerifiedJwt> | undefined;

  constructor(
    readonly ring: KeyRing,
    maxEntries = DEFAULT_VERIFIED_TOKEN_CACHE_MAX,
  ) {
    if (maxEntries <= 0) return;
    const cache = new LRUCache<string, VerifiedJwt>({ max: maxEntries });
    this.#cache = cache;
    ring.onReplace(() => cache.clear());
  }

  /** The verified payload of a token of type `typ` at `now` (epoch ms). Throws TokenRejected. */
  async verify(token: string, typ: string, now: number): Promise<JWTPayload> {
    const cache = this.#cache;
    if (!cache) return (await verifyJwt(this.ring, token, typ, now)).payload;
    const key = `${typ}\0${token}`;
    const hit = cache.get(key);
    if (hit && this.#stillValid(hit, now)) return hit.payload;
    // A stale entry falls through to the full check, which refuses it with the right reason.
    const verified = await verifyJwt(this.ring, token, typ, now);
    cache.set(key, frozen(verified));
    return verified.payload;
  }

  /** Entries in the cache, for tests. */
  get size(): number {
    return this.#cache?.size ?? 0;
  }

  #stillValid({ payload, kid, alg }: VerifiedJwt, now: number): boolean {
    return Math.floor(now / 1000) < (payload.exp as number) && this.ring.verificationKey(kid, alg, now) !== undefined;
  }
}

/** Callers share a cached payload, so none may change it. */
function frozen(verified: VerifiedJwt): VerifiedJwt {
  for (const value of Object.values(verified.payload)) if (typeof value === "object" && value !== null) Object.freeze(value);
  Object.freeze(verified.payload);
  return Object.freeze(verified);
}
