import { createHmac } from "node:crypto";
import type { CredentialDescriptor } from "./ceremony.js";

/**
 * allowCredentials for a user with no credentials. An empty list would tell anyone who asks that
 * the user does not exist; instead the answer has the most common shape (one credential) with an
 * id derived from a server secret and the user id: stable across calls and replicas, so asking
 * twice reveals nothing either, and unusable, since no authenticator holds it.
 */
export function decoyCredentials(secret: Uint8Array, tenant: string, userId: string): CredentialDescriptor[] {
  const id = createHmac("sha256", secret).update(`${tenant}\0${userId}`).digest().subarray(0, 16);
  return [{ id: id.toString("base64url"), transports: ["internal", "hybrid"] }];
}
