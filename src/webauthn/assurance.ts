/** amr and acr claims (session tokens, step-up grants, audit details). */
export interface AssuranceClaims {
  readonly amr: string[];
  readonly acr: string;
}

/**
 * Authentication methods (RFC 8176) and assurance class of a passkey sign-in, from the flags that
 * decide: backup eligibility as the credential's record has it, lowered (never raised) by the
 * assertion's (src/webauthn/assertion-policy.ts), and this assertion's user verification.
 * - amr: "hwk" when the key cannot leave its device (BE=0), "swk" for a synced passkey; "user" for
 *   the presence test every assertion carries; "mfa" when the user was also verified (possession
 *   plus PIN or biometric).
 * - acr: "phrh" (phishing-resistant, hardware-protected) for device-bound keys, "phr" otherwise
 *   (OpenID EAP ACR values).
 */
export function assuranceOf(flags: { readonly backupEligible: boolean; readonly userVerified: boolean }): AssuranceClaims {
  const amr = [flags.backupEligible ? "swk" : "hwk", "user"];
  if (flags.userVerified) amr.push("mfa");
  return { amr, acr: flags.backupEligible ? "phr" : "phrh" };
}
