import type { X509Certificate } from "node:crypto";
import type { Reason } from "../errors.js";
import { chainProblem } from "./cert-chain.js";
import type { MdsCatalog } from "./mds-blob.js";
import type { AttestationPolicy } from "./policy.js";

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

/** What a verified registration tells about the authenticator. */
export interface AttestedAuthenticator {
  readonly aaguid: string;
  readonly backupEligible: boolean;
  /** The attestation certificate chain, leaf first; read only under direct/enterprise. */
  readonly chain: () => readonly X509Certificate[];
}

export type TrustVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: Reason; readonly message: string };

const TRUSTED: TrustVerdict = { ok: true };
const refuse = (reason: Reason, message: string): TrustVerdict => ({ ok: false, reason, message });

/**
 * Decides whether a tenant accepts a registration. Order: the tenant's own lists, then
 * backup eligibility, then (direct/enterprise only) the FIDO MDS entry, its status, and the
 * attestation chain to the entry's roots at `at`. Under `none` the AAGUID is unattested, so the
 * lists are a filter for honest clients, not a security boundary (docs/attestation.md).
 */
export function trustVerdict(
  policy: AttestationPolicy,
  authenticator: AttestedAuthenticator,
  catalog: MdsCatalog | undefined,
  at: Date,
): TrustVerdict {
  const { aaguid } = authenticator;
  if (policy.aaguidDeny.includes(aaguid)) return refuse("AAGUID_NOT_ALLOWED", `authenticator ${aaguid} is denied`);
  if (policy.aaguidAllow.length > 0 && !policy.aaguidAllow.includes(aaguid)) {
    return refuse("AAGUID_NOT_ALLOWED", `authenticator ${aaguid} is not on the allow-list`);
  }
  if (authenticator.backupEligible && !policy.allowBackupEligible) {
    return refuse("BACKUP_ELIGIBLE_REFUSED", "synced (backup-eligible) passkeys are not accepted");
  }
  if (policy.conveyance === "none") return TRUSTED;
  if (!catalog) return refuse("ATTESTATION_UNTRUSTED", "no FIDO metadata is loaded to verify the attestation");
  const entry = catalog.entries.get(aaguid);
  if (!entry) return refuse("ATTESTATION_UNTRUSTED", `authenticator ${aaguid} has no FIDO metadata entry`);
  const refused = entry.statusReports.find((r) => REFUSED_STATUSES.has(r.status));
  if (refused) return refuse("AUTHENTICATOR_REVOKED", `authenticator ${aaguid} is reported ${refused.status}`);
  const chain = authenticator.chain();
  if (chain.length === 0) return refuse("ATTESTATION_UNTRUSTED", "no attestation certificate (none or self attestation)");
  const problem = chainProblem(chain, entry.attestationRoots, at);
  if (problem) return refuse("ATTESTATION_UNTRUSTED", `attestation certificate not trusted: ${problem}`);
  return TRUSTED;
}

/**
 * Decides whether a tenant that verifies attestation still accepts assertions from a credential
 * of this model, given the MDS in use now. Tenants with conveyance `none` never consult MDS.
 */
export function signInVerdict(policy: AttestationPolicy, aaguid: string, catalog: MdsCatalog | undefined): TrustVerdict {
  if (policy.conveyance === "none") return TRUSTED;
  const refused = catalog?.entries.get(aaguid)?.statusReports.find((r) => SIGN_IN_REFUSED_STATUSES.has(r.status));
  return refused ? refuse("AUTHENTICATOR_REVOKED", `authenticator ${aaguid} is reported ${refused.status}`) : TRUSTED;
}
