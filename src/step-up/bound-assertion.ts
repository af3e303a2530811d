import type { AuditFacts } from "../audit/audit-event.js";
import type { AssertionInput } from "../ceremonies/assertion-core.js";
import { Denial } from "./verdict.js";

/** What a step-up challenge must be bound to for VerifyOperation to accept it. */
export interface ChallengeBinding {
  readonly operationDigest: string;
  /** The session's subject; a challenge begun for another user or another's credential is refused (SUBJECT_MISMATCH). */
  readonly userId: string;
}

/**
 * A step-up assertion as the assertion core checks it: its sealed challenge must be a step-up
 * challenge bound to the operation (checked before the challenge is used, so a mismatch leaves
 * it usable), and its ceremony and credential must be the subject's.
 */
export function boundAssertion(
  credentialJson: string,
  binding: ChallengeBinding,
  requireUserVerification: boolean,
  facts: AuditFacts,
): AssertionInput {
  return {
    kind: "step-up",
    credentialJson,
    subject: binding.userId,
    requireUserVerification,
    facts,
    admit: (ceremony) => {
      if (ceremony.operationDigest !== binding.operationDigest) {
        throw new Denial("OPERATION_MISMATCH", "the assertion's challenge is bound to another operation");
      }
    },
  };
}
