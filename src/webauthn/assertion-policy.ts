import { z } from "zod";
import type { Reason } from "../errors.js";

/**
 * A tenant's answer to what an assertion says against its credential's record (the tenants
 * file's `assertion` block, docs/tenants-and-callers.md). Both defaults accept, because
 * authenticators that report flags inconsistently exist and a hard refusal locks their users out.
 */
export const assertionPolicySchema = z
  .object({
    /**
     * A signature counter regression (a cloned authenticator is suspected) always refuses that
     * assertion and flags the credential. `flag`: later assertions are accepted as before.
     * `refuse`: the credential signs in and steps up no more until ClearCloneWarning.
     */
    cloneResponse: z.enum(["flag", "refuse"]).default("flag"),
    /**
     * An assertion whose BE flag differs from the record's. `accept`: signs in at the lower
     * (synced) assurance, audited. `refuse`: BACKUP_ELIGIBILITY_MISMATCH.
     */
    backupEligibilityMismatch: z.enum(["accept", "refuse"]).default("accept"),
  })
  .strict();

export type AssertionPolicy = Readonly<z.infer<typeof assertionPolicySchema>>;

export const DEFAULT_ASSERTION_POLICY: AssertionPolicy = Object.freeze(assertionPolicySchema.parse({}));

export type FlagsVerdict =
  | {
      readonly ok: true;
      /** What assurance is computed from: the record's, lowered (never raised) by the assertion's. */
      readonly backupEligible: boolean;
    }
  | { readonly ok: false; readonly reason: Reason; readonly message: string };

/**
 * Which backup eligibility decides (WebAuthn L3 §7.2: BE cannot change over a credential's life,
 * so a relying party that uses it in policy compares the assertion's with the record's). The
 * record decides; a mismatch can only lower the assurance (device-bound only when record and
 * assertion both say BE=0), and is refused when the tenant refuses synced passkeys and the
 * credential turns backup eligible (BACKUP_ELIGIBLE_REFUSED), or by the tenant's
 * `backupEligibilityMismatch: refuse`.
 */
export function flagsVerdict(
  policy: { readonly assertion: AssertionPolicy; readonly allowBackupEligible: boolean },
  recordedBackupEligible: boolean,
  assertedBackupEligible: boolean,
): FlagsVerdict {
  if (recordedBackupEligible === assertedBackupEligible) return { ok: true, backupEligible: recordedBackupEligible };
  if (assertedBackupEligible && !policy.allowBackupEligible) {
    return { ok: false, reason: "BACKUP_ELIGIBLE_REFUSED", message: "the credential was registered device-bound and is now backup eligible" };
  }
  if (policy.assertion.backupEligibilityMismatch === "refuse") {
    return { ok: false, reason: "BACKUP_ELIGIBILITY_MISMATCH", message: "the assertion's backup eligibility differs from the credential's" };
  }
  return { ok: true, backupEligible: true };
}
