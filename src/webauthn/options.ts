import type {
  AttestationConveyancePreference,
  AuthenticatorAttachment,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialDescriptorJSON,
  PublicKeyCredentialRequestOptionsJSON,
  ResidentKeyRequirement,
  AuthenticatorTransport,
} from "@simplewebauthn/server";
import { randomBytes } from "node:crypto";
import type { CredentialDescriptor, UserVerification } from "./ceremony.js";
import type { Hint } from "./ceremony-profile.js";
import type { AuthenticationExtensionInputs, RegistrationExtensionInputs } from "./extensions.js";

/** The library's options types take PRF salts as bytes; in JSON they are base64url, as here. */
export type CreationOptionsJSON = Omit<PublicKeyCredentialCreationOptionsJSON, "extensions"> & { extensions: RegistrationExtensionInputs };
export type RequestOptionsJSON = Omit<PublicKeyCredentialRequestOptionsJSON, "extensions"> & { extensions?: AuthenticationExtensionInputs };

/** A random WebAuthn user handle (WebAuthn §14.6.1: no PII, at most 64 bytes). */
export function newUserHandle(): string {
  return randomBytes(32).toString("base64url");
}

function descriptors(credentials: readonly CredentialDescriptor[]): PublicKeyCredentialDescriptorJSON[] {
  return credentials.map((c) => ({
    id: c.id,
    type: "public-key",
    ...(c.transports.length ? { transports: c.transports as AuthenticatorTransport[] } : {}),
  }));
}

/**
 * Level 3 `hints`, left out when there are none (older browsers ignore the member anyway). Built
 * here: @simplewebauthn/server 14's generate*Options take no list (registration one
 * preferredAuthenticatorType, which also forces the attachment; authentication none), though its
 * JSON types carry `hints`.
 */
function hintsMember(hints: readonly Hint[] = []): { hints?: Hint[] } {
  return hints.length ? { hints: [...hints] } : {};
}

export interface CreationOptionsInput {
  readonly rpId: string;
  readonly rpName: string;
  readonly challenge: string;
  readonly userHandle: string;
  readonly userName: string;
  readonly displayName: string;
  readonly timeoutMs: number;
  readonly algorithms: readonly number[];
  readonly excludeCredentials: readonly CredentialDescriptor[];
  readonly attachment: AuthenticatorAttachment | undefined;
  readonly residentKey: ResidentKeyRequirement;
  readonly userVerification: UserVerification;
  readonly attestation: AttestationConveyancePreference;
  readonly hints?: readonly Hint[];
  readonly extensions: RegistrationExtensionInputs;
}

/** PublicKeyCredentialCreationOptionsJSON, as parseCreationOptionsFromJSON() accepts it. */
export function creationOptions(i: CreationOptionsInput): CreationOptionsJSON {
  return {
    rp: { id: i.rpId, name: i.rpName },
    user: { id: i.userHandle, name: i.userName, displayName: i.displayName },
    challenge: i.challenge,
    pubKeyCredParams: i.algorithms.map((alg) => ({ alg, type: "public-key" })),
    timeout: i.timeoutMs,
    excludeCredentials: descriptors(i.excludeCredentials),
    authenticatorSelection: {
      ...(i.attachment ? { authenticatorAttachment: i.attachment } : {}),
      residentKey: i.residentKey,
      requireResidentKey: i.residentKey === "required",
      userVerification: i.userVerification,
    },
    attestation: i.attestation,
    ...hintsMember(i.hints),
    extensions: i.extensions,
  };
}

export interface RequestOptionsInput {
  readonly rpId: string;
  readonly challenge: string;
  readonly timeoutMs: number;
  readonly allowCredentials: readonly CredentialDescriptor[];
  readonly userVerification: UserVerification;
  readonly hints?: readonly Hint[];
  readonly extensions?: AuthenticationExtensionInputs | undefined;
}

/** PublicKeyCredentialRequestOptionsJSON; no allowCredentials means a discoverable ceremony. */
export function requestOptions(i: RequestOptionsInput): RequestOptionsJSON {
  return {
    rpId: i.rpId,
    challenge: i.challenge,
    timeout: i.timeoutMs,
    userVerification: i.userVerification,
    allowCredentials: descriptors(i.allowCredentials),
    ...hintsMember(i.hints),
    ...(i.extensions && Object.keys(i.extensions).length ? { extensions: i.extensions } : {}),
  };
}
