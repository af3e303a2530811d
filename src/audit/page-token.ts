import { createHmac, timingSafeEqual } from "node:crypto";
import { AuthError } from "../errors.js";

/**
 * Opaque page tokens: the store's position plus the query it belongs to, MACed with a server
 * secret, so a caller can neither forge a position nor reuse a token for another selection.
 */
export function sealPageToken(secret: Uint8Array, query: string, position: Record<string, string>): string {
  const body = Buffer.from(JSON.stringify({ q: query, p: position })).toString("base64url");
  return `${body}.${mac(secret, body)}`;
}

export function openPageToken(secret: Uint8Array, query: string, token: string): Record<string, string> {
  const invalid = new AuthError("FIELD_INVALID", "page_token: not a token of this query", { field: "page_token" });
  const [body, tag] = token.split(".");
  if (!body || !tag) throw invalid;
  const expected = Buffer.from(mac(secret, body));
  const given = Buffer.from(tag);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid;
  const parsed = JSON.parse(Buffer.from(body, "base64url").toString()) as { q: string; p: Record<string, string> };
  if (parsed.q !== query) throw invalid;
  return parsed.p;
}

function mac(secret: Uint8Array, body: string): string {
  return createHmac("sha256", secret).update("dynauthn/page-token/v1\0").update(body).digest("base64url");
}
