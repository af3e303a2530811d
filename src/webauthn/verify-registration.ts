import { verifyRegistrationResponse, type RegistrationResponseJSON } from "@simplewebauthn/server";
import { unauthenticated } from "../errors.js";
import type { UserVerification } from "./ceremony.js";
import { SUPPORTED_ALGORITHMS } from "./algorithms.js";
import { fromLibraryError } from "./library-errors.js";
import { parseAssertionKey } from "./assertion-key.js";

/** Relying-party policy for registrations (per tenant). */
export interface RegistrationPolicy {
  readonly algorithms: readonly number[];
  readonly requireUserVerification: boolean;
  /** False only for conditional create (automatic passkey upgrade), where UP may be 0. */
  readonly requireUserPresence: boolean;
  /** Refuse SafetyNet attestations from devices that fail Android's CTS profile match. */
  readonly enforceSafetyNetCts: boolean;
}

/**
 * A tenant's registration policy: the ceremony's user verification, the tenant's algorithms, and
 * whether the ceremony was begun as conditional create (browsers then send UP=0). User
 * verification stays enforced for conditional create too: WebAuthn L3 §5.1.3 has the client
 * collect it or fail with ConstraintError when it is required.
 */
export function registrationPolicy(
  userVerification: UserVerification,
  algorithms: readonly number[] = SUPPORTED_ALGORITHMS,
  conditional = false,
): RegistrationPolicy {
  return {
    algorithms,
    requireUserVerification: userVerification === "required",
    requireUserPresence: !conditional,
    enforceSafetyNetCts: true,
  };
}

export interface RegistrationExpectation {
  readonly challenge: string;
  readonly origins: readonly string[];
  readonly rpId: string;
}

/** The facts of a verified registration that the service stores. */
export interface VerifiedRegistration {
  readonly credentialId: string;
  readonly publicKey: Uint8Array;
  readonly counter: number;
  readonly aaguid: string;
  readonly attestationFormat: string;
  readonly userVerified: boolean;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
  readonly transports: readonly string[];
  /** The verified attestation object (CBOR), for the tenant's attestation trust check. */
  readonly attestationObject: Uint8Array<ArrayBuffer>;
}

/** Verifies an attestation with @simplewebauthn/server (all seven formats) and maps its failures. */
export async function verifyRegistration(
  response: RegistrationResponseJSON,
  expected: RegistrationExpectation,
  policy: RegistrationPolicy,
): Promise<VerifiedRegistration> {
  let result;
  try {
    result = await verifyRegistrationResponse({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: [...expected.origins],
      expectedRPID: expected.rpId,
      requireUserVerification: policy.requireUserVerification,
      requireUserPresence: policy.requireUserPresence,
      supportedAlgorithmIDs: [...policy.algorithms],
      attestationSafetyNetEnforceCTSCheck: policy.enforceSafetyNetCts,
    });
  } catch (err) {
    throw fromLibraryError(err, "ATTESTATION_INVALID");
  }
  if (!result.verified) throw unauthenticated("ATTESTATION_INVALID", "attestation signature does not verify");
  const info = result.registrationInfo;
  if (info.credential.id !== response.id) throw unauthenticated("ATTESTATION_INVALID", "credential id differs from attested id");
  // The library checks the key's algorithm, not the key: "none" attests nothing about it.
  if (!parseAssertionKey(info.credential.publicKey)) {
    throw unauthenticated("ATTESTATION_INVALID", "the credential public key is not a sound key of its algorithm");
  }
  return {
    credentialId: info.credential.id,
    publicKey: info.credential.publicKey,
    counter: info.credential.counter,
    aaguid: info.aaguid,
    attestationFormat: info.fmt,
    userVerified: info.userVerified,
    backupEligible: info.credentialDeviceType === "multiDevice",
    backedUp: info.credentialBackedUp,
    transports: response.response.transports ?? [],
    attestationObject: info.attestationObject,
  };
}
