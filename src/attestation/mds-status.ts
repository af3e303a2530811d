/**
 * FIDO MDS3 AuthenticatorStatus values (FIDO Metadata Service v3.0, §3.1.4), spelled as the
 * specification spells them — mixed case included (FIDO_CERTIFIED_L1plus). Statuses compare
 * exactly: `revoked` is not REVOKED but a status this service does not know, and an unknown
 * status makes the model untrusted for registration (fail closed), never trusted.
 */
export const MDS3_STATUSES: ReadonlySet<string> = new Set([
  "NOT_FIDO_CERTIFIED",
  "FIDO_CERTIFIED",
  "USER_VERIFICATION_BYPASS",
  "ATTESTATION_KEY_COMPROMISE",
  "USER_KEY_REMOTE_COMPROMISE",
  "USER_KEY_PHYSICAL_COMPROMISE",
  "UPDATE_AVAILABLE",
  "REVOKED",
  "SELF_ASSERTION_SUBMITTED",
  "FIDO_CERTIFIED_L1",
  "FIDO_CERTIFIED_L1plus",
  "FIDO_CERTIFIED_L2",
  "FIDO_CERTIFIED_L2plus",
  "FIDO_CERTIFIED_L3",
  "FIDO_CERTIFIED_L3plus",
]);

/**
 * MDS statuses that refuse an authenticator model: revoked, or keys or user verification known
 * to be broken. Any report with one refuses, even if a later report (e.g. UPDATE_AVAILABLE)
 * follows, because already-issued authenticators keep the flaw. USER_VERIFICATION_BYPASS is
 * refused too, as @simplewebauthn/server and Authelia do.
 */
export const REFUSED_STATUSES: ReadonlySet<string> = new Set([
  "REVOKED",
  "ATTESTATION_KEY_COMPROMISE",
  "USER_KEY_REMOTE_COMPROMISE",
  "USER_KEY_PHYSICAL_COMPROMISE",
  "USER_VERIFICATION_BYPASS",
]);

/**
 * MDS statuses that also refuse sign-in with credentials already registered: the model's user
 * keys can be extracted or forged, so an assertion proves nothing. REVOKED and attestation-key
 * compromise concern new attestations only (FIDO: refuse future registrations).
 */
export const SIGN_IN_REFUSED_STATUSES: ReadonlySet<string> = new Set(["USER_KEY_REMOTE_COMPROMISE", "USER_KEY_PHYSICAL_COMPROMISE"]);

/** How a set of status reports judges a model for registration. */
export type StatusVerdict =
  | { readonly kind: "ok" }
  | { readonly kind: "refused"; readonly status: string }
  | { readonly kind: "unknown"; readonly status: string };

/** The most restrictive verdict of the reports: a refused status, else an unknown one, else ok. */
export function statusVerdict(reports: readonly { readonly status: string }[]): StatusVerdict {
  const refused = reports.find((r) => REFUSED_STATUSES.has(r.status));
  if (refused) return { kind: "refused", status: refused.status };
  const unknown = reports.find((r) => !MDS3_STATUSES.has(r.status));
  return unknown ? { kind: "unknown", status: unknown.status } : { kind: "ok" };
}

/** A report that names a certificate with this status makes that certificate (and its key) refused everywhere. */
export function condemnsCertificate(status: string): boolean {
  return REFUSED_STATUSES.has(status) || !MDS3_STATUSES.has(status);
}
