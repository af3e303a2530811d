import { randomUUID } from "node:crypto";
import { signJwt, TokenRejected } from "./jwt.js";
import type { SigningKey } from "./signing-key.js";
import { assuranceClaims, type Assurance } from "./verified-claims.js";
import type { VerifiedTokens } from "./verified-tokens.js";

/** The header `typ` of step-up grants: never accepted where a session token is expected. */
export const STEP_UP_GRANT_TYPE = "dynauthn-step-up+jwt";

/** A step-up grant's content: the assurance it vouches for, scoped to one operation digest. */
export interface GrantClaims extends Omit<Assurance, "jti" | "expiresAt"> {
  /** The operation digest, base64url. */
  readonly operation: string;
  /** Issued for a single-use requirement: its one use was the call that issued it. */
  readonly once: boolean;
  /**
   * Earned by a passkey assertion bound to this operation (a step-up), not by the session token
   * alone: only such a grant can meet a single-use requirement (claim `ast`).
   */
  readonly asserted: boolean;
  /**
   * The id (jti) of the session token the grant was issued under: the grant is accepted only with
   * that session, so revoking the session (RevokeSession, RevokeCredential, DeleteUser) ends it.
   */
  readonly sessionId: string;
}

export interface StepUpGrant extends GrantClaims {
  readonly jti: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

export interface IssuedGrant {
  readonly token: string;
  readonly grant: StepUpGrant;
}

/**
 * Signs a grant: sub, tid, sid (session id), op (operation digest), auth_time, acr, amr, cid, once, ast, jti, iat, exp
 * (`now` + `ttlSeconds`).
 */
export async function issueStepUpGrant(
  key: SigningKey,
  claims: GrantClaims,
  now: number,
  ttlSeconds: number,
): Promise<IssuedGrant> {
  const issuedAt = Math.floor(now / 1000);
  const grant: StepUpGrant = { ...claims, jti: randomUUID(), expiresAt: (issuedAt + ttlSeconds) * 1000 };
  const token = await signJwt(key, {
    typ: STEP_UP_GRANT_TYPE,
    subject: claims.userId,
    jti: grant.jti,
    issuedAt,
    expiresAt: issuedAt + ttlSeconds,
    claims: {
      tid: claims.tenant,
      sid: claims.sessionId,
      op: claims.operation,
      auth_time: Math.floor(claims.authTime / 1000),
      acr: claims.acr,
      amr: [...claims.amr],
      cid: claims.credentialId,
      once: claims.once,
      ast: claims.asserted,
    },
  });
  return { token, grant };
}

/** Verifies a grant offline (signature, issuer, type, expiry, claims). Throws TokenRejected. */
export async function verifyStepUpGrant(tokens: VerifiedTokens, token: string, now: number): Promise<StepUpGrant> {
  const payload = await tokens.verify(token, STEP_UP_GRANT_TYPE, now);
  if (typeof payload.op !== "string" || typeof payload.once !== "boolean" || typeof payload.sid !== "string") {
    throw new TokenRejected("INVALID", "the grant lacks its operation or session binding");
  }
  // A grant without `ast` (issued before the claim existed) counts as the session token's alone.
  return { ...assuranceClaims(payload), operation: payload.op, once: payload.once, asserted: payload.ast === true, sessionId: payload.sid };
}
