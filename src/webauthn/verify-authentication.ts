import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from "@simplewebauthn/server";
import { unauthenticated } from "../errors.js";
import type { AuthenticationExpectation, ParsedAssertion, VerifiedAssertion } from "./assertion.js";
import type { AssertionKey } from "./assertion-key.js";
import { checkAssertion, LIBRARY_DECIDES } from "./fast-assertion.js";
import { fromLibraryError } from "./library-errors.js";

/** The credential's verification material (immutable, so it may come from the cache). */
export interface CredentialKey {
  readonly credentialId: string;
  readonly publicKey: Uint8Array;
  /** The key parsed once (parseAssertionKey); undefined for a stored key the service no longer accepts. */
  readonly assertionKey: AssertionKey | undefined;
}

/**
 * Verifies an assertion's signature and flags: by the fast verifier (fast-assertion.ts), and by
 * @simplewebauthn/server for the rare ECDSA signature only its lenient reader can judge. A stored
 * key parseAssertionKey refuses (registered before registration refused such keys, e.g. an
 * Ed25519 key of small order) verifies nothing: the library would accept forgeries with it. The
 * counter check is left to the store's conditional update (the source of truth), so both are
 * given counter 0, which makes their own comparison a no-op that a stale cached counter could not
 * distort.
 */
export async function verifyAuthentication(
  assertion: ParsedAssertion,
  expected: AuthenticationExpectation,
  key: CredentialKey,
): Promise<VerifiedAssertion> {
  if (!key.assertionKey) throw unauthenticated("SIGNATURE_INVALID", "the credential's public key is not one this service accepts");
  const verified = checkAssertion(assertion, expected, key.assertionKey, 0);
  return verified !== LIBRARY_DECIDES ? verified : libraryVerify(assertion.json, expected, key, 0);
}

/** @simplewebauthn/server's verdict, with its errors mapped to the service's reasons. */
export async function libraryVerify(
  response: AuthenticationResponseJSON,
  expected: AuthenticationExpectation,
  key: CredentialKey,
  storedCounter: number,
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
      credential: { id: key.credentialId, publicKey: key.publicKey as Uint8Array<ArrayBuffer>, counter: storedCounter },
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
