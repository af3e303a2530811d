import { sign } from "node:crypto";
import { errors, jwtVerify, type JWTPayload } from "jose";
import type { KeyRing } from "./key-ring.js";
import type { SigningKey } from "./signing-key.js";

/** The issuer claim of every token this service signs. */
export const TOKEN_ISSUER = "dynauthn";

/** Why a token was refused: it expired, or it is not a token this ring vouches for. */
export type TokenFailure = "EXPIRED" | "INVALID";

export class TokenRejected extends Error {
  override readonly name = "TokenRejected";
  constructor(
    readonly failure: TokenFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface JwtContent {
  /** The header `typ`, which keeps one kind of token from being accepted as another. */
  readonly typ: string;
  readonly subject: string;
  readonly jti: string;
  /** Epoch seconds. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly claims: Record<string, unknown>;
}

/**
 * A compact JWS signed by `key`, with its kid and alg in the header and `iss` dynauthn. Signed
 * with node:crypto directly (one synchronous sign, ES256 as the JWS raw r‖s form) rather than
 * jose's SignJWT, which goes through WebCrypto and its thread pool at about 3× the CPU; jose still
 * verifies every token (verifyJwt), and test/unit/jwt.test.ts checks the two agree.
 */
export async function signJwt(key: SigningKey, content: JwtContent): Promise<string> {
  const header = { alg: key.alg, kid: key.kid, typ: content.typ };
  const payload = {
    ...content.claims,
    iss: TOKEN_ISSUER,
    sub: content.subject,
    iat: content.issuedAt,
    exp: content.expiresAt,
    jti: content.jti,
  };
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  const signature = sign(key.alg === "ES256" ? "sha256" : null, Buffer.from(signingInput), {
    key: key.privateKey,
    dsaEncoding: "ieee-p1363",
  });
  return `${signingInput}.${signature.toString("base64url")}`;
}

const base64urlJson = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A verified token's payload and the key (kid, alg) that signed it. */
export interface VerifiedJwt {
  readonly payload: JWTPayload;
  readonly kid: string;
  readonly alg: string;
}

/**
 * Verifies a token of type `typ` against the keys the ring publishes at `now` (epoch ms): a token
 * whose key has been removed or has retired is refused like a forged one.
 */
export async function verifyJwt(ring: KeyRing, token: string, typ: string, now: number): Promise<VerifiedJwt> {
  try {
    const { payload, protectedHeader } = await jwtVerify(
      token,
      (header) => {
        const key = ring.verificationKey(header.kid, header.alg, now);
        if (!key) throw new TokenRejected("INVALID", "the token's signing key is not in the key ring");
        return key;
      },
      { issuer: TOKEN_ISSUER, typ, algorithms: ring.algorithms(), currentDate: new Date(now), requiredClaims: ["sub", "jti", "exp"] },
    );
    // The key resolver above found the ring's key by this kid and alg, so both are strings here.
    return { payload, kid: protectedHeader.kid as string, alg: protectedHeader.alg };
  } catch (err) {
    if (err instanceof TokenRejected) throw err;
    if (err instanceof errors.JWTExpired) throw new TokenRejected("EXPIRED", "the token has expired");
    throw new TokenRejected("INVALID", "the token is malformed or its signature does not verify");
  }
}
