import type { JWTPayload } from "jose";
import { TokenRejected } from "./jwt.js";

/** What a verified session token or step-up grant says about how its subject authenticated. */
export interface Assurance {
  readonly tenant: string;
  readonly userId: string;
  readonly credentialId: string;
  /** Epoch ms. */
  readonly authTime: number;
  readonly acr: string;
  readonly amr: readonly string[];
  readonly jti: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** Reads the claims every dynauthn token carries; a token without them is not one of ours. */
export function assuranceClaims(payload: JWTPayload): Assurance {
  const { sub, jti, exp, tid, auth_time: authTime, acr, amr, cid } = payload;
  const strings = [sub, jti, tid, acr, cid].every((v) => typeof v === "string");
  if (!strings || typeof authTime !== "number" || !Array.isArray(amr) || !amr.every((v) => typeof v === "string")) {
    throw new TokenRejected("INVALID", "the token lacks dynauthn's claims");
  }
  return {
    tenant: tid as string,
    userId: sub as string,
    credentialId: cid as string,
    authTime: authTime * 1000,
    acr: acr as string,
    amr: amr as string[],
    jti: jti as string,
    expiresAt: (exp as number) * 1000,
  };
}
