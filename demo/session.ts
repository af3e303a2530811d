import type { IncomingMessage } from "node:http";
import { createRemoteJWKSet, jwtVerify } from "jose";

/** The cookie holding dynauthn's session token: HttpOnly, so page scripts never see it. */
const COOKIE = "demo_session";

export interface Session {
  /** The token itself, for calls such as VerifyOperation that take it. */
  readonly token: string;
  readonly userId: string;
  readonly authTime: number;
  readonly amr: readonly string[];
  readonly acr: string;
}

/**
 * Reads the session cookie and checks the token's signature, issuer and expiry against dynauthn's
 * JWKS (fetched once and refetched for an unknown kid, as jose's remote key set does), the way
 * any service verifies dynauthn tokens offline.
 */
export function sessionReader(jwksUrl: URL): (req: IncomingMessage) => Promise<Session | undefined> {
  const keys = createRemoteJWKSet(jwksUrl);
  return async (req) => {
    const token = cookieValue(req.headers.cookie, COOKIE);
    if (token === undefined) return undefined;
    try {
      const { payload } = await jwtVerify(token, keys, { issuer: "dynauthn", algorithms: ["ES256", "EdDSA"] });
      return {
        token,
        userId: String(payload.sub),
        authTime: Number(payload.auth_time),
        amr: Array.isArray(payload.amr) ? payload.amr.map(String) : [],
        acr: String(payload.acr),
      };
    } catch {
      return undefined;
    }
  };
}

/** Set-Cookie for a new session; SameSite=Strict keeps other sites from sending it. */
export function sessionCookie(token: string, expiresAt: Date): string {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  return `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}`;
}

export function clearedSessionCookie(): string {
  return `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}
