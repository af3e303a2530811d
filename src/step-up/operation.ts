import { createHash } from "node:crypto";

/** A sensitive operation as the caller describes it; see authn.v1.Operation. */
export interface Operation {
  readonly name: string;
  readonly resource: string;
  readonly payloadDigest: Uint8Array;
  readonly displayText: string;
}

/** The digest's domain separator: a digest of anything else can never equal an operation's. */
const OPERATION_DIGEST_V1 = "dynauthn.operation.v1";

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
