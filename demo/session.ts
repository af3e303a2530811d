import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { createRemoteJWKSet, jwtVerify, SignJWT } from "jose";

/** The cookie holding dynauthn's session token: HttpOnly, so page scripts never see it. */
const PASSKEY_COOKIE = "demo_session";

/** The cookie of a one-time-code sign-in, signed by the BFF itself (dynauthn made no session). */
const CODE_COOKIE = "demo_code_session";
const CODE_ISSUER = "acme-notes-demo";
const CODE_SESSION_SECONDS = 30 * 60;

export interface Session {
  /** dynauthn's token, for calls such as VerifyOperation that take it; none after a code sign-in. */
  readonly token: string | undefined;
  readonly userId: string;
  readonly authTime: number;
  readonly amr: readonly string[];
  readonly acr: string;
}

export interface Sessions {
  /** The request's session: dynauthn's token first, else a code session. */
  read(req: IncomingMessage): Promise<Session | undefined>;
  /** Set-Cookie headers for a passkey sign-in (dynauthn's token), ending any code session. */
  passkeyCookies(token: string, expiresAt: Date): string[];
  /** Set-Cookie headers for a one-time-code sign-in, ending any passkey session. */
  codeCookies(userId: string): Promise<string[]>;
  /** Set-Cookie headers that sign out. */
  cleared(): string[];
}

/**
 * Session cookies. dynauthn's token is checked against dynauthn's JWKS (fetched once and refetched
 * for an unknown kid, as jose's remote key set does), the way any service verifies dynauthn tokens
 * offline. A code session is an HS256 JWT under a key that lives as long as the BFF process.
 */
export function createSessions(jwksUrl: URL): Sessions {
  const keys = createRemoteJWKSet(jwksUrl);
  const codeKey = randomBytes(32);
  const verified = async (token: string | undefined, verify: (token: string) => ReturnType<typeof jwtVerify>) => {
    if (token === undefined) return undefined;
    try {
      return (await verify(token)).payload;
    } catch {
      return undefined;
    }
  };
  return {
    async read(req) {
      const token = cookieValue(req.headers.cookie, PASSKEY_COOKIE);
      const passkey = await verified(token, (t) => jwtVerify(t, keys, { issuer: "dynauthn", algorithms: ["ES256", "EdDSA"] }));
      const payload =
        passkey ??
        (await verified(cookieValue(req.headers.cookie, CODE_COOKIE), (t) =>
          jwtVerify(t, codeKey, { issuer: CODE_ISSUER, algorithms: ["HS256"] }),
        ));
      if (!payload) return undefined;
      return {
        token: passkey ? token : undefined,
        userId: String(payload.sub),
        authTime: Number(payload.auth_time),
        amr: Array.isArray(payload.amr) ? payload.amr.map(String) : [],
        acr: String(payload.acr),
      };
    },
    passkeyCookies: (token, expiresAt) => [cookie(PASSKEY_COOKIE, token, expiresAt), cookie(CODE_COOKIE, "", new Date(0))],
    async codeCookies(userId) {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ auth_time: now, amr: ["otp"], acr: "code" })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer(CODE_ISSUER)
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(now + CODE_SESSION_SECONDS)
        .sign(codeKey);
      return [cookie(CODE_COOKIE, token, new Date((now + CODE_SESSION_SECONDS) * 1000)), cookie(PASSKEY_COOKIE, "", new Date(0))];
    },
    cleared: () => [cookie(PASSKEY_COOKIE, "", new Date(0)), cookie(CODE_COOKIE, "", new Date(0))],
  };
}

/** Set-Cookie for a session; SameSite=Strict keeps other sites from sending it. */
function cookie(name: string, value: string, expiresAt: Date): string {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  return `${name}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}
