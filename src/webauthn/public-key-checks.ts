import { ed25519 } from "@noble/curves/ed25519.js";

/**
 * Checks a credential public key must pass beyond its shape. Format "none" (every tenant's
 * default) attests nothing about the key, and node:crypto verifies with whatever key it is
 * given: an Ed25519 key of small order, or an RSA key with e = 1 or a modulus anyone can
 * factor, accepts signatures made without any private key (fifth attack run, docs/security.md).
 */

/**
 * An Ed25519 public key an honest authenticator can produce: a canonical encoding of a point
 * in the prime-order subgroup (a·B). Small-order points (the identity among them) verify a fixed
 * signature for every message; mixed-order points are never a real key. @noble/curves decodes
 * strictly (RFC 8032: y < p, no "negative zero") and does the subgroup arithmetic.
 */
export function isPrimeOrderEd25519(x: Uint8Array): boolean {
  try {
    const point = ed25519.Point.fromBytes(x);
    return !point.isSmallOrder() && point.isTorsionFree();
  } catch {
    return false;
  }
}

/** Below this a modulus is within reach of factoring; real authenticators use 2048 or more. */
export const MIN_RSA_MODULUS_BITS = 2048;
/** Above this one verification becomes a denial of service; no authenticator needs more. */
export const MAX_RSA_MODULUS_BITS = 16384;
/** e stays below 2³² (every real key uses 65537) so that a verification stays cheap. */
const MAX_RSA_EXPONENT_BYTES = 4;

/**
 * An RSA public key worth verifying with: an odd modulus of MIN–MAX_RSA_MODULUS_BITS (no leading
 * zero bytes, so its length is its size) and an odd public exponent 3 ≤ e < 2³² (e = 1 makes
 * the signature equal to the padded digest).
 */
export function isSoundRsaKey(n: Uint8Array, e: Uint8Array): boolean {
  if (n.length === 0 || n[0] === 0 || e.length === 0 || e.length > MAX_RSA_EXPONENT_BYTES || e[0] === 0) return false;
  const bits = n.length * 8 - (Math.clz32(n[0]!) - 24);
  if (bits < MIN_RSA_MODULUS_BITS || bits > MAX_RSA_MODULUS_BITS || (n[n.length - 1]! & 1) === 0) return false;
  const exponent = e.reduce((value, byte) => value * 256 + byte, 0);
  return exponent >= 3 && exponent % 2 === 1;
}
