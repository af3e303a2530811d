import { createHmac, timingSafeEqual } from "node:crypto";
import { AuthError } from "../errors.js";

/**
 * Opaque page tokens: the store's position plus the query it belongs to, MACed with the server
 * secret (src/server-secrets.ts), so a caller can neither forge a position nor reuse a token for
 * another selection. `keys[0]` seals; every key opens, so tokens survive a secret rotation.
 */
export function sealPageToken(keys: readonly [Uint8Array, ...Uint8Array[]], query: string, position: Record<string, string>): string {
  const body = Buffer.from(JSON.stringify({ q: query, p: position })).toString("base64url");
  return `${body}.${mac(keys[0], body)}`;
}

export function openPageToken(keys: readonly Uint8Array[], query: string, token: string): Record<string, string> {
  const invalid = new AuthError("FIELD_INVALID", "page_token: not a token of this query", { field: "page_token" });
  const parts = token.split(".");
  if (parts.length !== 2) throw invalid;
  const [body = "", tag = ""] = parts;
  // Compared as text, so only the canonical encoding of a tag is accepted. Every key is tried
  // (no early exit), so the time taken does not tell which one matched.
  const given = Buffer.from(tag);
  const matches = keys.map((key) => {
    const expected = Buffer.from(mac(key, body));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!matches.includes(true)) throw invalid;
  const parsed = JSON.parse(Buffer.from(body, "base64url").toString()) as { q: string; p: Record<string, string> };
  if (parsed.q !== query) throw invalid;
  return parsed.p;
}

function mac(key: Uint8Array, body: string): string {
  return createHmac("sha256", key).update("dynauthn/page-token/v1\0").update(body).digest("base64url");
}
