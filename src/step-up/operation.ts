import { createHash, randomBytes } from "node:crypto";

/** A sensitive operation as the caller describes it; see authn.v1.Operation. */
export interface Operation {
  readonly name: string;
  readonly resource: string;
  readonly payloadDigest: Uint8Array;
  readonly displayText: string;
}

/** The digest's domain separator: a digest of anything else can never equal an operation's. */
const OPERATION_DIGEST_V1 = "dynauthn.operation.v1";
const DIGEST_BYTES = 32;

/**
 * The operation digest: SHA-256 of the JSON array [version, name, resource,
 * base64url(payload digest), display text]. JSON makes the encoding unambiguous (no two field
 * lists serialise alike), and any client can recompute it.
 */
export function operationDigest(op: Operation): string {
  const canonical = JSON.stringify([
    OPERATION_DIGEST_V1,
    op.name,
    op.resource,
    Buffer.from(op.payloadDigest).toString("base64url"),
    op.displayText,
  ]);
  return createHash("sha256").update(canonical, "utf8").digest("base64url");
}

/**
 * A challenge bound to an operation: 32 random bytes ‖ the 32-byte operation digest, base64url.
 * The authenticator signs over it, so the assertion itself says which operation it approves,
 * and a challenge can be checked against an operation before any store access.
 */
export function boundChallenge(digest: string): string {
  return Buffer.concat([randomBytes(32), Buffer.from(digest, "base64url")]).toString("base64url");
}

/** Whether a challenge (base64url) is bound to the operation digest. */
export function isBoundTo(challenge: string, digest: string): boolean {
  const bytes = Buffer.from(challenge, "base64url");
  return bytes.length === 32 + DIGEST_BYTES && bytes.subarray(32).equals(Buffer.from(digest, "base64url"));
}
