import { SignJWT } from "jose";
import type { SigningKey } from "./signing-key.js";

/** The issuer claim of every token this service signs. */
export const TOKEN_ISSUER = "dynauthn";

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
 * A compact JWS (ES256): sub, iat, exp, auth_time, amr (RFC 8176), acr, cid (credential id),
 * tid (tenant) and jti (the session id). Times are epoch milliseconds in and seconds in the token.
 */
export async function issueSessionToken(
  key: SigningKey,
  claims: SessionClaims,
  ttlSeconds: number,
): Promise<IssuedToken> {
  const iat = Math.floor(claims.authTime / 1000);
  const exp = iat + ttlSeconds;
  const token = await new SignJWT({
    auth_time: iat,
    amr: [...claims.amr],
    acr: claims.acr,
    cid: claims.credentialId,
    tid: claims.tenant,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .setIssuer(TOKEN_ISSUER)
    .setSubject(claims.userId)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(claims.jti)
    .sign(key.privateKey);
  return { token, expiresAt: exp * 1000 };
}
