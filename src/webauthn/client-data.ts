import { createHash } from "node:crypto";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import { AuthError, unauthenticated } from "../errors.js";
import { MAX_CHALLENGE_CHARS } from "./sealed-challenge.js";

const clientDataSchema = z.object({
  type: z.string(),
  challenge: z.string().min(1).max(MAX_CHALLENGE_CHARS),
  origin: z.string(),
  crossOrigin: z.boolean().optional(),
  topOrigin: z.string().optional(),
  tokenBinding: z.unknown().optional(),
});

export type ClientData = z.infer<typeof clientDataSchema>;

/** Parses clientDataJSON (base64url of UTF-8 JSON); garbage is INVALID_ARGUMENT. */
export function parseClientData(clientDataJSON: string): ClientData {
  let value: unknown;
  try {
    value = JSON.parse(isoBase64URL.toUTF8String(clientDataJSON));
  } catch {
    throw new AuthError("CREDENTIAL_MALFORMED", "clientDataJSON is not valid JSON", { field: "credential_json" });
  }
  const parsed = clientDataSchema.safeParse(value);
  if (!parsed.success) {
    throw new AuthError("CREDENTIAL_MALFORMED", "clientDataJSON lacks type, challenge or origin", {
      field: "credential_json",
    });
  }
  return parsed.data;
}

export interface ClientDataExpectation {
  readonly type: "webauthn.create" | "webauthn.get";
  readonly origins: readonly string[];
}

/**
 * The relying-party checks that need no stored state, done before the challenge is consumed so a
 * phishing origin or a wrong ceremony type changes nothing. Policy: cross-origin iframes are
 * refused (crossOrigin=true), as no tenant embeds its sign-in in another site's frame.
 */
export function checkClientData(data: ClientData, expected: ClientDataExpectation): void {
  if (data.type !== expected.type) {
    throw unauthenticated("CLIENT_DATA_TYPE_MISMATCH", `clientData.type must be ${expected.type}`);
  }
  if (!expected.origins.includes(data.origin)) {
    throw unauthenticated("ORIGIN_MISMATCH", "clientData.origin is not an allowed origin");
  }
  if (data.crossOrigin === true || data.topOrigin !== undefined) {
    throw unauthenticated("CROSS_ORIGIN_REJECTED", "cross-origin ceremonies are not allowed");
  }
}

/** SHA-256 of each RP ID in use: a handful per deployment (the tenants'), asked on every ceremony. */
const rpIdHashes = new LRUCache<string, Buffer>({ max: 256 });

/** The authenticator data's first 32 bytes must be SHA-256 of the RP ID (WebAuthn §7.2 step 15). */
export function checkRpIdHash(rpIdHash: Uint8Array, rpId: string): void {
  let expected = rpIdHashes.get(rpId);
  if (!expected) rpIdHashes.set(rpId, (expected = createHash("sha256").update(rpId).digest()));
  if (!expected.equals(rpIdHash)) {
    throw unauthenticated("RP_ID_MISMATCH", "authenticator data is for another relying party");
  }
}
