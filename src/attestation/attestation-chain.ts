import type { X509Certificate } from "node:crypto";
import { decodeAttestationObject } from "@simplewebauthn/server/helpers";
import { decodeProtectedHeader } from "jose";
import { certificate, certificateFromBase64 } from "./cert-chain.js";

/**
 * The attestation certificate chain (leaf first) of a verified attestation object: `x5c` of
 * packed, tpm, android-key, fido-u2f and apple statements, or the JWS header's `x5c` of
 * android-safetynet. Empty for `none` and self attestation, which prove nothing about the model.
 * Called only after @simplewebauthn/server has verified the statement, so its shape is known.
 */
export function attestationChain(attestationObject: Uint8Array<ArrayBuffer>): X509Certificate[] {
  const statement = decodeAttestationObject(attestationObject).get("attStmt");
  const x5c = statement.get("x5c");
  if (x5c?.length) return x5c.map((der) => certificate(der));
  const response = statement.get("response");
  if (response) {
    const header = decodeProtectedHeader(new TextDecoder().decode(response));
    return (header.x5c ?? []).map(certificateFromBase64);
  }
  return [];
}
