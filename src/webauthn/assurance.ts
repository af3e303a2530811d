/**
 * Authentication methods (RFC 8176) and assurance class of a passkey sign-in.
 * - amr: "hwk" when the key cannot leave its device (BE=0), "swk" for a synced passkey; "user" for
 *   the presence test every assertion carries; "mfa" when the user was also verified (possession
 *   plus PIN or biometric).
 * - acr: "phrh" (phishing-resistant, hardware-protected) for device-bound keys, "phr" otherwise
 *   (OpenID EAP ACR values).
 */
export function assuranceOf(flags: { readonly backupEligible: boolean; readonly userVerified: boolean }): {
  amr: string[];
  acr: string;
} {
  const amr = [flags.backupEligible ? "swk" : "hwk", "user"];
  if (flags.userVerified) amr.push("mfa");
  return { amr, acr: flags.backupEligible ? "phr" : "phrh" };
}
