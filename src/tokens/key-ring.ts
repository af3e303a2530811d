import type { KeyObject } from "node:crypto";
import type { JSONWebKeySet } from "jose";
import { CHALLENGE_RETENTION_MS, TOKEN_RETENTION_MS } from "../lifetimes.js";
import type { SigningAlg, SigningKey } from "./signing-key.js";

/**
 * The signing keys, oldest first. At any moment:
 * - the newest key whose activation time has passed signs;
 * - a key stops signing when its successor activates, and stays published (and accepted) until
 *   every token it signed has expired, `retentionMs` later; then it drops out. By default that is
 *   the longest lifetime any configuration allows (lifetimes.ts), not the longest configured now:
 *   a tenant's lifetime may have been longer when the key signed, before a reload or a restart;
 * - a challenge sealed by a key opens only until every challenge it sealed has expired, the
 *   longest challenge lifetime after its successor activated: a key file leaked later cannot
 *   forge a ceremony, even while the key still verifies the tokens it signed;
 * - a key whose activation time lies ahead is published but does not sign yet, so verifiers that
 *   cache the JWKS learn it before the first token it signs.
 * Removing a key's file and reloading drops it at once: tokens it signed are refused.
 * Times are passed in (epoch ms) so tests drive them with their clock.
 */
export class KeyRing {
  #keys: readonly SigningKey[] = [];
  #byKid = new Map<string, number>();
  #onReplace: (() => void)[] = [];

  /** `retentionMs`: the longest lifetime of any token a key signs (tests shorten it). */
  constructor(
    keys: readonly SigningKey[],
    private readonly retentionMs = TOKEN_RETENTION_MS,
  ) {
    this.replace(keys);
  }

  /** Swaps in a reloaded set of keys; in-flight verifications keep the snapshot they read. */
  replace(keys: readonly SigningKey[]): void {
    if (keys.length === 0) throw new Error("a key ring needs at least one key");
    const sorted = [...keys].sort((a, b) => a.activatesAt - b.activatesAt);
    this.#keys = sorted;
    this.#byKid = new Map(sorted.map((key, i) => [key.kid, i]));
    for (const listener of this.#onReplace) listener();
  }

  /** Runs `listener` after every replace(): caches of what the old ring vouched for drop it. */
  onReplace(listener: () => void): void {
    this.#onReplace.push(listener);
  }

  get keys(): readonly SigningKey[] {
    return this.#keys;
  }

  /** The key that signs at `now`: the newest active one (the oldest if none is active yet). */
  signingKey(now: number): SigningKey {
    const keys = this.#keys;
    for (let i = keys.length - 1; i >= 0; i--) if (keys[i]!.activatesAt <= now) return keys[i]!;
    return keys[0]!;
  }

  /** The public key for a token's `kid` and `alg`, if that key is published at `now`. */
  verificationKey(kid: string | undefined, alg: string | undefined, now: number): KeyObject | undefined {
    const i = kid === undefined ? undefined : this.#byKid.get(kid);
    if (i === undefined) return undefined;
    const key = this.#keys[i]!;
    return key.alg === alg && this.#published(i, now) ? key.publicKey : undefined;
  }

  /** The JWK Set of every key published at `now`. */
  jwks(now: number): JSONWebKeySet {
    return { keys: this.#keys.filter((_, i) => this.#published(i, now)).map((k) => ({ ...k.publicJwk })) };
  }

  /** The keys whose sealed challenges may still be open at `now` (see the class comment). */
  challengeKeys(now: number): SigningKey[] {
    return this.#keys.filter((_, i) => this.#retainedFor(i, now, CHALLENGE_RETENTION_MS));
  }

  /** Keys past their retention at `now`: their files can be deleted. */
  retired(now: number): SigningKey[] {
    return this.#keys.filter((_, i) => !this.#published(i, now));
  }

  /** The algorithms of the ring's keys, for a verifier's allow-list. */
  algorithms(): SigningAlg[] {
    return [...new Set(this.#keys.map((k) => k.alg))];
  }

  #published(i: number, now: number): boolean {
    return this.#retainedFor(i, now, this.retentionMs);
  }

  /** Whether key `i` still signs, or stopped less than `retentionMs` before `now`. */
  #retainedFor(i: number, now: number, retentionMs: number): boolean {
    const successor = this.#keys[i + 1];
    if (successor === undefined || successor.activatesAt > now) return true;
    return now < successor.activatesAt + retentionMs;
  }
}
