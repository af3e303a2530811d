import { verifyJwt } from "./jwt.js";
import type { KeyRing } from "./key-ring.js";
import { assuranceClaims, type Assurance } from "./verified-claims.js";

/** The header `typ` of session tokens (issueSessionToken). */
export const SESSION_TOKEN_TYPE = "JWT";

/**
 * Verifies a session token offline: signature by a key the ring publishes at `now`, issuer, type,
 * expiry and dynauthn's claims. Throws TokenRejected. No store access: revocation of the token's
 * credential takes effect at the next passkey assertion, not here.
 */
export async function verifySessionToken(ring: KeyRing, token: string, now: number): Promise<Assurance> {
  return assuranceClaims(await verifyJwt(ring, token, SESSION_TOKEN_TYPE, now));
}
