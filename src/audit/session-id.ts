import { randomBytes } from "node:crypto";

/**
 * A session id (the token's jti) names its own record: the user and the sign-in time locate the
 * sign-in's audit event with one key lookup, so no index on session ids is needed. It carries
 * nothing the token does not already say (sub, auth_time), plus 96 random bits.
 * Format: `<auth time, base 36>.<base64url(user id as UTF-16 code units)>.<random>` — UTF-16 so
 * that any id round-trips exactly, lone surrogates included.
 */
export function newSessionId(userId: string, authTime: number): string {
  return `${locator(userId, authTime)}.${randomBytes(12).toString("base64url")}`;
}

/** The longest session id: user ids are at most MAX_USER_ID_BYTES (128) UTF-8 bytes, so at most 128 code units. */
export const MAX_SESSION_ID_BYTES = 400;

/** The user and sign-in time a session id names, or undefined for anything else. */
export function parseSessionId(sessionId: string): { userId: string; time: number } | undefined {
  const match = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{2,344})\.[A-Za-z0-9_-]{16}$/.exec(sessionId);
  if (!match) return undefined;
  const time = Number.parseInt(match[1]!, 36);
  const userId = Buffer.from(match[2]!, "base64url").toString("utf16le");
  return locator(userId, time) === `${match[1]}.${match[2]}` ? { userId, time } : undefined;
}

function locator(userId: string, time: number): string {
  return `${time.toString(36)}.${Buffer.from(userId, "utf16le").toString("base64url")}`;
}
