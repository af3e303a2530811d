import type { X509Certificate } from "node:crypto";
import type { Reason } from "../errors.js";
import { chainProblem } from "./cert-chain.js";
import { profileOf } from "./cert-extensions.js";
import { condemnedIn, modelsAnchoring, type MdsCatalog } from "./mds-catalog.js";
import { SIGN_IN_REFUSED_STATUSES, statusVerdict } from "./mds-status.js";
import type { AttestationPolicy } from "./policy.js";

export { REFUSED_STATUSES, SIGN_IN_REFUSED_STATUSES } from "./mds-status.js";

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

/** The verdict of one MDS entry's status reports on a model. */
function modelVerdict(catalog: MdsCatalog, aaguid: string): TrustVerdict {
  const verdict = statusVerdict(catalog.entries.get(aaguid)?.statusReports ?? []);
  if (verdict.kind === "refused") return refuse("AUTHENTICATOR_REVOKED", `authenticator ${aaguid} is reported ${verdict.status}`);
  if (verdict.kind === "unknown") return refuse("ATTESTATION_UNTRUSTED", `authenticator ${aaguid} has MDS status ${JSON.stringify(verdict.status)}, which this service does not know`);
  return TRUSTED;
}

/**
 * The checks on the attestation certificate itself, after the chain led to the claimed entry's
 * roots. A certificate (or its key) that any status report of the BLOB condemns is refused
 * whatever model it claims. The certificate's id-fido-gen-ce-aaguid, when present, must name the
 * claimed model (so it is bound: the vendor CA signed which model it is). A certificate without
 * it does not say which model it belongs to, so every model whose roots also issue it must be
 * trusted too: the holder of a compromised model's key cannot register as a sibling model that
 * shares the vendor's root.
 */
function certificateVerdict(catalog: MdsCatalog, aaguid: string, chain: readonly X509Certificate[], at: Date): TrustVerdict {
  const condemned = condemnedIn(catalog, chain);
  if (condemned) {
    return refuse("AUTHENTICATOR_REVOKED", `attestation certificate ${condemned.index} is reported ${condemned.by.status} (MDS entry ${condemned.by.entry})`);
  }
  const named = profileOf(chain[0]!).aaguid;
  if (named !== undefined) {
    return named === aaguid ? TRUSTED : refuse("ATTESTATION_UNTRUSTED", `the attestation certificate is issued for authenticator ${named}, not ${aaguid}`);
  }
  for (const sibling of modelsAnchoring(catalog, chain, at)) {
    const verdict = modelVerdict(catalog, sibling);
    if (!verdict.ok) {
      return refuse(verdict.reason, `the attestation certificate does not name its model (no id-fido-gen-ce-aaguid) and could be one of authenticator ${sibling}: ${verdict.message}`);
    }
  }
  return TRUSTED;
}

/**
 * Decides whether a tenant accepts a registration. Order: the tenant's own lists, then
 * backup eligibility, then (direct/enterprise only) the FIDO MDS entry and its status, the
 * attestation chain to the entry's roots at `at`, and the certificate itself
 * (certificateVerdict). Under `none` the AAGUID is unattested, so the lists are a filter for
 * honest clients, not a security boundary (docs/attestation.md).
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
  const model = modelVerdict(catalog, aaguid);
  if (!model.ok) return model;
  try {
    const chain = authenticator.chain();
    if (chain.length === 0) return refuse("ATTESTATION_UNTRUSTED", "no attestation certificate (none or self attestation)");
    const problem = chainProblem(chain, entry.attestationRoots, at);
    if (problem) return refuse("ATTESTATION_UNTRUSTED", `attestation certificate not trusted: ${problem}`);
    return certificateVerdict(catalog, aaguid, chain, at);
  } catch {
    // The library parsed these certificates to verify the statement; node:crypto (OpenSSL) may be stricter.
    return refuse("ATTESTATION_UNTRUSTED", "an attestation certificate cannot be read");
  }
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
