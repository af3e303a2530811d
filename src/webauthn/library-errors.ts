import { AuthError, type Reason } from "../errors.js";

/**
 * @simplewebauthn/server throws plain Errors; their messages are the only signal. Map them to
 * stable reasons here, in one place, so a library upgrade that rewords a message shows up as a
 * failing test rather than a silently different reason.
 */
const PATTERNS: readonly [RegExp, Reason][] = [
  [/user verification/i, "USER_VERIFICATION_REQUIRED"],
  [/user presence|not present/i, "USER_PRESENCE_REQUIRED"],
  [/public key alg|invalid alg|algorithm/i, "ALGORITHM_UNSUPPORTED"],
  [/RP ?ID/i, "RP_ID_MISMATCH"],
  [/top origin|cross-origin/i, "CROSS_ORIGIN_REJECTED"],
  [/origin/i, "ORIGIN_MISMATCH"],
  [/challenge/i, "CHALLENGE_INVALID"],
  [/counter/i, "COUNTER_REGRESSION"],
  [/tokenBinding|base64url|was not a string|Leftover bytes|decod/i, "CREDENTIAL_MALFORMED"],
];

export function fromLibraryError(err: unknown, fallback: Reason): AuthError {
  if (err instanceof AuthError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const reason = PATTERNS.find(([pattern]) => pattern.test(message))?.[1] ?? fallback;
  // The library's message can quote attacker-supplied values; callers get a fixed text.
  return new AuthError(reason, `verification failed: ${reason.toLowerCase().replaceAll("_", " ")}`);
}
