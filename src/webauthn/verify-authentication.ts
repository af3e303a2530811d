import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from "@simplewebauthn/server";
import { unauthenticated } from "../errors.js";
import { fromLibraryError } from "./library-errors.js";

export interface AuthenticationExpectation {
  readonly challenge: string;
  readonly origins: readonly string[];
  readonly rpId: string;
  readonly requireUserVerification: boolean;
}

/** The credential's verification material (immutable, so it may come from the cache). */
export interface CredentialKey {
  readonly credentialId: string;
  readonly publicKey: Uint8Array;
}

export interface VerifiedAssertion {
  readonly newCounter: number;
  readonly userVerified: boolean;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
}

/**
 * Verifies an assertion's signature and flags. The counter check is left to the store's
 * conditional update (the source of truth), so the library is given counter 0, which makes its
 * own comparison a no-op that a stale cached counter could not distort.
 */
export async function verifyAuthentication(
  response: AuthenticationResponseJSON,
  expected: AuthenticationExpectation,
  key: CredentialKey,
): Promise<VerifiedAssertion> {
  let result;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: [...expected.origins],
      expectedRPID: expected.rpId,
      requireUserVerification: expected.requireUserVerification,
      // Bytes from DynamoDB or the cache are never backed by a SharedArrayBuffer.
      credential: { id: key.credentialId, publicKey: key.publicKey as Uint8Array<ArrayBuffer>, counter: 0 },
    });
  } catch (err) {
    // Preflight decoded every other part, so what still fails to decode here is the signature (e.g.
    // truncated DER): a signature that does not verify. INVALID_ARGUMENT would tell the caller that
    // nothing happened, but the challenge is already consumed.
    const refusal = fromLibraryError(err, "SIGNATURE_INVALID");
    throw refusal.reason === "CREDENTIAL_MALFORMED" ? unauthenticated("SIGNATURE_INVALID", "assertion signature does not verify") : refusal;
  }
  if (!result.verified) throw unauthenticated("SIGNATURE_INVALID", "assertion signature does not verify");
  const info = result.authenticationInfo;
  return {
    newCounter: info.newCounter,
    userVerified: info.userVerified,
    backupEligible: info.credentialDeviceType === "multiDevice",
    backedUp: info.credentialBackedUp,
  };
}
