import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { decodeAttestationObject, isoBase64URL, parseAuthenticatorData } from "@simplewebauthn/server/helpers";
import { z } from "zod";
import { AuthError } from "../errors.js";
import { MAX_CREDENTIAL_ID_CHARS } from "../field-limits.js";
import { isCanonicalBase64url } from "./base64url.js";
import { registrationExtensionFacts, type RegistrationExtensionFacts } from "./extensions.js";
import { isStrictCbor } from "./strict-cbor.js";

/** A browser's credential JSON is a few KiB; TPM and Android attestations stay well below this. */
export const MAX_CREDENTIAL_JSON_BYTES = 64 * 1024;

const base64url = z.string().min(1).refine((s) => isoBase64URL.isBase64URL(s), "must be base64url");

/**
 * A credential id is looked up as text and, when unknown, sent back in signalUnknownCredential:
 * only its canonical spelling may pass, or a padded or trailing-bit variant of an existing id
 * would be "unknown" and the browser (which decodes it to the same bytes) would hide that passkey.
 */
const credentialId = base64url.max(MAX_CREDENTIAL_ID_CHARS).refine(isCanonicalBase64url, "must be canonical base64url");

/**
 * clientExtensionResults must be an object; what the service reads of it is taken out in the
 * parse functions below and the rest (PRF results, largeBlob blobs) is dropped there, so no later
 * code, log or audit event can see it.
 */
const common = {
  id: credentialId,
  rawId: credentialId,
  type: z.literal("public-key"),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
};

const registrationSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url,
    attestationObject: base64url,
    transports: z.array(z.string().max(32)).max(16).optional(),
    authenticatorData: base64url.optional(),
    publicKey: base64url.optional(),
    publicKeyAlgorithm: z.number().int().optional(),
  }),
});

const authenticationSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.max(128).optional().nullable(),
  }),
});

function malformed(message: string): AuthError {
  return new AuthError("CREDENTIAL_MALFORMED", `credential_json: ${message}`, { field: "credential_json" });
}

function parseJson<T>(json: string, schema: z.ZodType<T>): T {
  if (Buffer.byteLength(json, "utf8") > MAX_CREDENTIAL_JSON_BYTES) {
    throw new AuthError("PAYLOAD_TOO_LARGE", `credential_json: larger than ${MAX_CREDENTIAL_JSON_BYTES} bytes`, {
      field: "credential_json",
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw malformed("not valid JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw malformed(`${issue?.path.join(".") || "value"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** Decodes binary parts up front, so malformed CBOR is INVALID_ARGUMENT before any state changes. */
function decoded<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch {
    throw malformed(`${what} cannot be decoded`);
  }
}

export interface ParsedRegistration {
  /** clientExtensionResults emptied: `extensions` is all the service keeps of them. */
  readonly json: RegistrationResponseJSON;
  readonly authData: ReturnType<typeof parseAuthenticatorData>;
  readonly extensions: RegistrationExtensionFacts;
}

export function parseRegistrationJson(json: string): ParsedRegistration {
  const received = parseJson(json, registrationSchema) as RegistrationResponseJSON;
  const parsed: RegistrationResponseJSON = { ...received, clientExtensionResults: {} };
  if (parsed.id !== parsed.rawId) throw malformed("id and rawId differ");
  const attestationObject = decoded("attestationObject", () => isoBase64URL.toBuffer(parsed.response.attestationObject));
  if (!isStrictCbor(attestationObject)) throw malformed("attestationObject is not canonical CBOR");
  const authData = decoded("attestationObject", () => {
    const attestation = decodeAttestationObject(attestationObject);
    // WebAuthn §6.5.4: attStmt is a map for every format ({} for "none"); the library reads any shape.
    if (!(attestation.get("attStmt") instanceof Map)) throw new TypeError("attStmt is not a map");
    return parseAuthenticatorData(attestation.get("authData"));
  });
  if (!authData.credentialID || !authData.credentialPublicKey) throw malformed("attestationObject has no attested credential");
  if (!isStrictCbor(authData.credentialPublicKey)) throw malformed("the credential public key is not canonical CBOR");
  return { json: parsed, authData, extensions: registrationExtensionFacts(received.clientExtensionResults) };
}

export interface ParsedAuthentication {
  /** clientExtensionResults emptied: the service reads nothing of an assertion's (PRF results, blobs). */
  readonly json: AuthenticationResponseJSON;
  readonly authData: ReturnType<typeof parseAuthenticatorData>;
  /** The raw bytes `authData` was parsed from: what the assertion signature covers. */
  readonly authenticatorData: Uint8Array;
  /** The bytes the browser hashed: SHA-256 of these is signed. */
  readonly clientDataJSON: Uint8Array;
  readonly signature: Uint8Array;
}

export function parseAuthenticationJson(json: string): ParsedAuthentication {
  const parsed: AuthenticationResponseJSON = { ...(parseJson(json, authenticationSchema) as AuthenticationResponseJSON), clientExtensionResults: {} };
  if (parsed.id !== parsed.rawId) throw malformed("id and rawId differ");
  const { response } = parsed;
  const authenticatorData = decoded("authenticatorData", () => isoBase64URL.toBuffer(response.authenticatorData));
  return {
    json: parsed,
    authData: decoded("authenticatorData", () => parseAuthenticatorData(authenticatorData)),
    authenticatorData,
    clientDataJSON: decoded("clientDataJSON", () => isoBase64URL.toBuffer(response.clientDataJSON)),
    signature: decoded("signature", () => isoBase64URL.toBuffer(response.signature)),
  };
}
