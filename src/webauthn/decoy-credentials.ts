import { createHmac } from "node:crypto";
import type { CredentialDescriptor } from "./ceremony.js";

/**
 * allowCredentials for a user with no credentials. An empty list would tell anyone who asks that
 * the user does not exist; instead the answer is drawn from what real users' lists look like,
 * with every choice and id byte derived from a server secret and (tenant, user id): stable across
 * calls and replicas, so asking twice reveals nothing either, and unusable, since no
 * authenticator holds the ids. A fixed shape (one 16-byte id, one transport set) told unknown
 * users apart at a glance (issue 13, identity break 3).
 *
 * What it cannot do: imitate one real user's exact list, or follow a real list's changes (a
 * decoy list never changes; a real one grows when a passkey is added). See docs/security.md.
 */

/** How many passkeys a user has: most one, some two, few three. Weights out of 100. */
const COUNTS: readonly Weighted<number>[] = [
  { value: 1, weight: 60 },
  { value: 2, weight: 30 },
  { value: 3, weight: 10 },
];

/**
 * The authenticator kinds a list holds, with the credential id length each produces and the
 * transports a browser reports for it (getTransports() is sorted, so these are too). Lengths are
 * those of real authenticators in the WebAuthn vectors (../shared/webauthn-vectors):
 * iCloud Keychain 20, Google Password Manager 16, Windows Hello / TPM and most password managers
 * 32, YubiKey Bio 48, YubiKey 5 and other security keys 64.
 */
const KINDS: readonly Weighted<{ readonly idBytes: number; readonly transports: readonly string[] }>[] = [
  { value: { idBytes: 20, transports: ["hybrid", "internal"] }, weight: 30 },
  { value: { idBytes: 16, transports: ["hybrid", "internal"] }, weight: 25 },
  { value: { idBytes: 32, transports: ["internal"] }, weight: 15 },
  { value: { idBytes: 32, transports: ["hybrid", "internal"] }, weight: 10 },
  { value: { idBytes: 64, transports: ["nfc", "usb"] }, weight: 10 },
  { value: { idBytes: 64, transports: ["usb"] }, weight: 5 },
  { value: { idBytes: 48, transports: ["usb"] }, weight: 5 },
];

interface Weighted<T> {
  readonly value: T;
  readonly weight: number;
}

export function decoyCredentials(secret: Uint8Array, tenant: string, userId: string): CredentialDescriptor[] {
  const draw = deterministicBytes(createHmac("sha256", secret).update(`${tenant}\0${userId}`).digest());
  const count = pick(COUNTS, draw(2));
  return Array.from({ length: count }, () => {
    const kind = pick(KINDS, draw(2));
    return { id: draw(kind.idBytes).toString("base64url"), transports: kind.transports };
  });
}

/** The entry two bytes fall on, the weights (summing to 100) spread over 0–99 (bias < 0.1 %). */
function pick<T>(table: readonly Weighted<T>[], bytes: Buffer): T {
  let point = bytes.readUInt16BE() % 100;
  for (const entry of table) {
    if (point < entry.weight) return entry.value;
    point -= entry.weight;
  }
  return table[table.length - 1]!.value;
}

/** A byte stream from a per-user key: HMAC-SHA256(key, block counter), blocks read in order. */
function deterministicBytes(key: Buffer): (n: number) => Buffer {
  let pending = Buffer.alloc(0);
  let block = 0;
  return (n) => {
    while (pending.length < n) {
      const next = createHmac("sha256", key).update(String(block++)).digest();
      pending = Buffer.concat([pending, next]);
    }
    const out = pending.subarray(0, n);
    pending = pending.subarray(n);
    return out;
  };
}
