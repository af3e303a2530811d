import { LRUCache } from "lru-cache";
import type { AssertionKey } from "../webauthn/assertion-key.js";
import type { CredentialDescriptor } from "../webauthn/ceremony.js";

/** A credential's immutable verification facts: safe to keep, whatever happens to the credential. */
export interface CachedCredential {
  readonly credentialId: string;
  readonly userId: string;
  readonly userHandle: string;
  readonly publicKey: Uint8Array;
  /** `publicKey` parsed once, so a sign-in does not re-import it (undefined: the library verifies). */
  readonly assertionKey: AssertionKey | undefined;
  readonly aaguid: string;
  /** The BE flag at registration: fixed for a credential's life. */
  readonly backupEligible: boolean;
}

/**
 * Read savers only. Single use, counters, ownership and revocation are decided by conditional
 * writes in the store, never here:
 * - `credentials` holds immutable facts (public key, owner), no TTL needed.
 * - `userCredentials` holds each user's allowCredentials list for a short TTL. Staleness means a
 *   credential just registered on another replica may be missing from allowCredentials until the
 *   TTL passes, and a revoked one may still be listed (it is refused at finish).
 */
export class Caches {
  /** Cache keys carry the tenant, like the store's keys. */
  static key(tenant: string, id: string): string {
    return `${tenant}\0${id}`;
  }

  readonly credentials: LRUCache<string, CachedCredential>;
  readonly userCredentials: LRUCache<string, CredentialDescriptor[]> | undefined;

  constructor(opts: { readonly userListTtlSeconds: number; readonly max?: number }) {
    const max = opts.max ?? 10_000;
    this.credentials = new LRUCache({ max });
    this.userCredentials =
      opts.userListTtlSeconds > 0 ? new LRUCache({ max, ttl: opts.userListTtlSeconds * 1000 }) : undefined;
  }
}
