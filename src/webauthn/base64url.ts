/**
 * Whether `s` is the one base64url spelling of its bytes: no padding, no bits set past the last
 * whole byte. Decoders ignore both, so a value used as text (a lookup key, an id sent back to the
 * browser) must be canonical or one set of bytes has several names.
 */
export function isCanonicalBase64url(s: string): boolean {
  return Buffer.from(s, "base64url").toString("base64url") === s;
}
