import { createHash } from "node:crypto";
import { unauthenticated } from "../errors.js";
import type { AuthenticationExpectation, ParsedAssertion, VerifiedAssertion } from "./assertion.js";
import type { AssertionKey } from "./assertion-key.js";
import { checkRpIdHash } from "./client-data.js";

/** The fast path cannot decide (see SignatureVerdict "undecided"): ask the library. */
export const LIBRARY_DECIDES = Symbol("library decides");

const TOKEN_BINDING_STATUSES: readonly unknown[] = ["present", "supported", "notSupported"];

/**
 * Does what @simplewebauthn/server 14's verifyAuthenticationResponse does for an assertion, in
 * its order, on an already decoded assertion and a pre-parsed key, synchronously and with
 * node:crypto. It repeats preflight's comparisons (type, origin, top origin, RP ID hash): they
 * cost well under a microsecond, and the verifier then stands on its own. Proven equal to the
 * library by test/unit/fast-assertion-differential.test.ts; reasons are the ones the service
 * gave through the library, except where the library's message matched no pattern (a wrong
 * clientData.type was SIGNATURE_INVALID there, CLIENT_DATA_TYPE_MISMATCH here).
 *
 * `storedCounter` is the library's credential.counter (the service passes 0 and leaves the
 * counter to the store's conditional update).
 */
export function checkAssertion(
  assertion: ParsedAssertion,
  expected: AuthenticationExpectation,
  key: AssertionKey,
  storedCounter: number,
): VerifiedAssertion | typeof LIBRARY_DECIDES {
  const { clientData, authData } = assertion;
  if (clientData.type !== "webauthn.get") {
    throw unauthenticated("CLIENT_DATA_TYPE_MISMATCH", "clientData.type must be webauthn.get");
  }
  if (clientData.challenge !== expected.challenge) {
    throw unauthenticated("CHALLENGE_INVALID", "verification failed: challenge invalid");
  }
  // No expected top origin is configured, so any top origin is a cross-origin ceremony (crossOrigin
  // alone passes, as in the library; preflight's stricter policy refuses it).
  if (clientData.topOrigin) throw unauthenticated("CROSS_ORIGIN_REJECTED", "cross-origin ceremonies are not allowed");
  if (!expected.origins.includes(clientData.origin)) {
    throw unauthenticated("ORIGIN_MISMATCH", "clientData.origin is not an allowed origin");
  }
  const { tokenBinding } = clientData;
  if (tokenBinding && (typeof tokenBinding !== "object" || !TOKEN_BINDING_STATUSES.includes((tokenBinding as { status?: unknown }).status))) {
    throw unauthenticated("SIGNATURE_INVALID", "clientData.tokenBinding is malformed");
  }
  checkRpIdHash(authData.rpIdHash, expected.rpId);
  const { flags, counter } = authData;
  if (!flags.up) throw unauthenticated("USER_PRESENCE_REQUIRED", "the user was not present");
  if (expected.requireUserVerification && !flags.uv) {
    throw unauthenticated("USER_VERIFICATION_REQUIRED", "user verification is required");
  }
  if ((counter > 0 || storedCounter > 0) && counter <= storedCounter) {
    throw unauthenticated("COUNTER_REGRESSION", "signature counter did not advance");
  }
  if (flags.bs && !flags.be) {
    throw unauthenticated("SIGNATURE_INVALID", "a credential that is not backup eligible cannot be backed up");
  }
  const clientDataHash = createHash("sha256").update(assertion.clientDataJSON).digest();
  const verdict = key.verify(Buffer.concat([assertion.authenticatorData, clientDataHash]), assertion.signature);
  if (verdict === "undecided") return LIBRARY_DECIDES;
  if (verdict === "invalid") throw unauthenticated("SIGNATURE_INVALID", "assertion signature does not verify");
  return { newCounter: counter, userVerified: flags.uv, backupEligible: flags.be, backedUp: flags.bs };
}
