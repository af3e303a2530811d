import { signJwt } from "./jwt.js";
import type { SigningKey } from "./signing-key.js";
import { assuranceClaims, type Assurance } from "./verified-claims.js";
import type { VerifiedTokens } from "./verified-tokens.js";

/** The header `typ` of session tokens; step-up grants have their own, so neither passes for the other. */
export const SESSION_TOKEN_TYPE = "JWT";

export interface SessionClaims {
  /** The session id: the sign-in's audit event records it, so sessions can be listed and revoked. */
  readonly jti: string;
  readonly tenant: string;
  readonly userId: string;
  readonly credentialId: string;
  readonly authTime: number;
  readonly amr: readonly string[];
  readonly acr: string;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * A compact JWS signed by `key` (ES256 or EdDSA, kid in the header): sub, iat, exp, auth_time,
 * amr (RFC 8176), acr, cid (credential id), tid (tenant) and jti (the session id). Times are epoch
 * milliseconds in and seconds in the token.
 */
export async function issueSessionToken(key: SigningKey, claims: SessionClaims, ttlSeconds: number): Promise<IssuedToken> {
  const iat = Math.floor(claims.authTime / 1000);
  const exp = iat + ttlSeconds;
  const token = await signJwt(key, {
    typ: SESSION_TOKEN_TYPE,
    subject: claims.userId,
    jti: claims.jti,
    issuedAt: iat,
    expiresAt: exp,
    claims: { auth_time: iat, amr: [...claims.amr], acr: claims.acr, cid: claims.credentialId, tid: claims.tenant },
  });
  return { token, expiresAt: exp * 1000 };
}

/**
 * Verifies a session token offline: signature by a key the ring publishes at `now`, issuer, type,
 * expiry and dynauthn's claims. Throws TokenRejected. No store access: revocation of the token's
 * credential takes effect at the next passkey assertion, not here.
 */
export async function verifySessionToken(tokens: VerifiedTokens, token: string, now: number): Promise<Assurance> {
  return assuranceClaims(await tokens.verify(token, SESSION_TOKEN_TYPE, now));
}
