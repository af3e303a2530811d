import type { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCatalog, type MdsCatalog, type RawEntry } from "../../src/attestation/mds-catalog.js";
import { attestationPolicySchema, type AttestationPolicy } from "../../src/attestation/policy.js";
import { REFUSED_STATUSES, signInVerdict, trustVerdict, type AttestedAuthenticator } from "../../src/attestation/trust-policy.js";
import { aaguidExtension, issue, mdsEntry, rootCa, type Issued } from "../support/attestation-pki.js";

const AAGUID = "ee882879-721c-4913-9775-3dfcce97072a";
const OTHER = "fa2b99dc-9e39-4257-8f92-4a30d23c4118";
const AT = new Date("2026-06-01T00:00:00Z");

const policy = (p: Record<string, unknown> = {}): AttestationPolicy => attestationPolicySchema.parse(p);
const direct = (p: Record<string, unknown> = {}) => policy({ conveyance: "direct", ...p });

let root: Issued;
let leafChain: X509Certificate[];
let expiredChain: X509Certificate[];

beforeAll(async () => {
  root = await rootCa("Test attestation root");
  const batch = await issue(root, "Test batch CA", { ca: true });
  leafChain = [(await issue(batch, "attestation leaf")).cert, batch.cert];
  expiredChain = [(await issue(batch, "old leaf", { notAfter: new Date("2026-01-01T00:00:00Z") })).cert, batch.cert];
});

function authenticator(over: Partial<AttestedAuthenticator> = {}): AttestedAuthenticator {
  return { aaguid: AAGUID, backupEligible: false, chain: () => leafChain, ...over };
}

type Statuses = Parameters<typeof mdsEntry>[3];

/** A catalogue built by the service's own code from MDS3 entries (attestation-pki's mdsEntry). */
function catalogOf(...entries: Record<string, unknown>[]): MdsCatalog {
  return buildCatalog(1, new Date("2026-07-01T00:00:00Z"), entries as unknown as RawEntry[]);
}

/** One entry for AAGUID ("Test Key", the test root, no status reports) with some fields replaced. */
function catalog(over: { aaguid?: string; description?: string; roots?: X509Certificate[]; statuses?: Statuses } = {}): MdsCatalog {
  return catalogOf(mdsEntry(over.aaguid ?? AAGUID, over.description ?? "Test Key", over.roots ?? [root.cert], over.statuses ?? []));
}

const refusedWith = (reason: string) => expect.objectContaining({ ok: false, reason });

describe("attestation trust verdict", () => {
  it("none (the default) accepts any authenticator without metadata and never reads the chain", () => {
    const verdict = trustVerdict(policy(), authenticator({ chain: () => { throw new Error("chain read under none"); } }), undefined, AT);
    expect(verdict).toEqual({ ok: true });
  });

  it("deny-list refuses the AAGUID under every conveyance, even one MDS trusts", () => {
    expect(trustVerdict(policy({ aaguidDeny: [AAGUID] }), authenticator(), undefined, AT)).toEqual(refusedWith("AAGUID_NOT_ALLOWED"));
    expect(trustVerdict(direct({ aaguidDeny: [AAGUID] }), authenticator(), catalog(), AT)).toEqual(refusedWith("AAGUID_NOT_ALLOWED"));
    expect(trustVerdict(policy({ aaguidDeny: [OTHER] }), authenticator(), undefined, AT)).toEqual({ ok: true });
  });

  it("allow-list admits only listed AAGUIDs", () => {
    expect(trustVerdict(policy({ aaguidAllow: [AAGUID] }), authenticator(), undefined, AT)).toEqual({ ok: true });
    expect(trustVerdict(policy({ aaguidAllow: [OTHER] }), authenticator(), undefined, AT)).toEqual(refusedWith("AAGUID_NOT_ALLOWED"));
  });

  it("allowBackupEligible: false refuses synced (BE) credentials and admits device-bound ones", () => {
    const strict = policy({ allowBackupEligible: false });
    expect(trustVerdict(strict, authenticator({ backupEligible: true }), undefined, AT)).toEqual(refusedWith("BACKUP_ELIGIBLE_REFUSED"));
    expect(trustVerdict(strict, authenticator(), undefined, AT)).toEqual({ ok: true });
    expect(trustVerdict(policy(), authenticator({ backupEligible: true }), undefined, AT)).toEqual({ ok: true });
  });

  it("direct accepts an attestation chained to the MDS entry's root", () => {
    expect(trustVerdict(direct(), authenticator(), catalog(), AT)).toEqual({ ok: true });
    expect(trustVerdict(policy({ conveyance: "enterprise" }), authenticator(), catalog(), AT)).toEqual({ ok: true });
  });

  it("direct refuses when no BLOB is loaded, or the AAGUID has no entry", () => {
    expect(trustVerdict(direct(), authenticator(), undefined, AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
    expect(trustVerdict(direct(), authenticator({ aaguid: OTHER }), catalog(), AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
  });

  it.each([...REFUSED_STATUSES])("direct refuses an authenticator reported %s, even after a later report", (status) => {
    const statuses = ["FIDO_CERTIFIED_L1", status, "UPDATE_AVAILABLE"];
    expect(trustVerdict(direct(), authenticator(), catalog({ statuses }), AT)).toEqual(refusedWith("AUTHENTICATOR_REVOKED"));
  });

  it("direct accepts certified and informational statuses", () => {
    const statuses = ["FIDO_CERTIFIED_L2", "FIDO_CERTIFIED_L3plus", "UPDATE_AVAILABLE", "NOT_FIDO_CERTIFIED", "SELF_ASSERTION_SUBMITTED"];
    expect(trustVerdict(direct(), authenticator(), catalog({ statuses }), AT)).toEqual({ ok: true });
  });

  it("direct refuses, never throws, when an attestation certificate cannot be read", () => {
    const unreadable = authenticator({ chain: () => { throw new Error("ERR_OSSL_ASN1"); } });
    expect(trustVerdict(direct(), unreadable, catalog(), AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
  });

  it("direct refuses none and self attestation (no certificate)", () => {
    expect(trustVerdict(direct(), authenticator({ chain: () => [] }), catalog(), AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
  });

  it("direct refuses a chain to another root, and one with an expired certificate", async () => {
    const stranger = await rootCa("Test attestation root");
    expect(trustVerdict(direct(), authenticator(), catalog({ roots: [stranger.cert] }), AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
    expect(trustVerdict(direct(), authenticator({ chain: () => expiredChain }), catalog(), AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
  });
});

describe("sign-in verdict", () => {
  const reported = (status: string) => catalog({ statuses: [status] });

  it.each(["USER_KEY_REMOTE_COMPROMISE", "USER_KEY_PHYSICAL_COMPROMISE"])("a verifying tenant refuses assertions of a model reported %s", (status) => {
    expect(signInVerdict(direct(), AAGUID, reported(status))).toEqual(refusedWith("AUTHENTICATOR_REVOKED"));
  });

  it("keeps accepting registered credentials of a REVOKED or attestation-key-compromised model, unknown models, and without MDS", () => {
    expect(signInVerdict(direct(), AAGUID, reported("REVOKED"))).toEqual({ ok: true });
    expect(signInVerdict(direct(), AAGUID, reported("ATTESTATION_KEY_COMPROMISE"))).toEqual({ ok: true });
    expect(signInVerdict(direct(), OTHER, reported("USER_KEY_REMOTE_COMPROMISE"))).toEqual({ ok: true });
    expect(signInVerdict(direct(), AAGUID, undefined)).toEqual({ ok: true });
  });

  it("a tenant with conveyance none never consults MDS at sign-in", () => {
    expect(signInVerdict(policy(), AAGUID, reported("USER_KEY_REMOTE_COMPROMISE"))).toEqual({ ok: true });
  });
});

describe("certificates MDS condemns, and what a certificate without an AAGUID may claim (issue 13, break 10)", () => {
  const SIBLING = OTHER;
  const ATTESTATION_SUBJECT = "C=US, O=Vendor, OU=Authenticator Attestation, CN=Vendor Key";
  let vendor: Issued;
  let batch: Issued;
  let leaked: Issued;

  beforeAll(async () => {
    vendor = await rootCa("Vendor root");
    batch = await issue(vendor, "Vendor batch CA", { ca: true });
    leaked = await issue(batch, "leaked", { subject: ATTESTATION_SUBJECT });
  });
  const chainOf = (leaf: Issued) => () => [leaf.cert, batch.cert];
  const claiming = (aaguid: string, leaf: Issued) => authenticator({ aaguid, chain: chainOf(leaf) });
  /** The vendor's two models share its root; the first has `statuses`, the sibling is clean. */
  const vendorCatalog = (statuses: Statuses, siblingStatuses: Statuses = ["FIDO_CERTIFIED_L1"]) =>
    catalogOf(mdsEntry(AAGUID, "Model A", [vendor.cert], statuses), mdsEntry(SIBLING, "Model B", [vendor.cert], siblingStatuses));

  it("a certificate an ATTESTATION_KEY_COMPROMISE report names is refused under its own model and under a sibling sharing the root", () => {
    const mds = vendorCatalog(["FIDO_CERTIFIED_L1", { status: "ATTESTATION_KEY_COMPROMISE", certificate: leaked.cert }]);
    expect(trustVerdict(direct(), claiming(AAGUID, leaked), mds, AT)).toEqual(refusedWith("AUTHENTICATOR_REVOKED"));
    expect(trustVerdict(direct(), claiming(SIBLING, leaked), mds, AT)).toEqual({
      ok: false,
      reason: "AUTHENTICATOR_REVOKED",
      message: `attestation certificate 0 is reported ATTESTATION_KEY_COMPROMISE (MDS entry ${AAGUID})`,
    });
  });

  it("the compromised key re-certified, a condemned intermediate, and a report in a U2F entry (no AAGUID) refuse too", async () => {
    const recertified = await issue(batch, "again", { subject: ATTESTATION_SUBJECT, keys: leaked.keys });
    const named = (certificate: X509Certificate) => vendorCatalog(["FIDO_CERTIFIED_L1"], ["FIDO_CERTIFIED_L1", { status: "REVOKED", certificate }]);
    expect(trustVerdict(direct(), claiming(AAGUID, recertified), named(leaked.cert), AT)).toEqual(refusedWith("AUTHENTICATOR_REVOKED"));
    expect(trustVerdict(direct(), claiming(AAGUID, leaked), named(batch.cert), AT)).toEqual(
      expect.objectContaining({ message: expect.stringMatching(/certificate 1 is reported REVOKED/) }),
    );
    const u2f = { attestationCertificateKeyIdentifiers: ["ab"], statusReports: [{ status: "ATTESTATION_KEY_COMPROMISE", certificate: leaked.cert.raw.toString("base64") }] };
    const mds = catalogOf(mdsEntry(AAGUID, "Model A", [vendor.cert]), u2f);
    expect(trustVerdict(direct(), claiming(AAGUID, leaked), mds, AT)).toEqual(refusedWith("AUTHENTICATOR_REVOKED"));
  });

  it("a certificate without id-fido-gen-ce-aaguid is judged as every model whose roots issue it: a revoked sibling refuses it", () => {
    const mds = vendorCatalog(["FIDO_CERTIFIED_L1", "REVOKED"]);
    expect(trustVerdict(direct(), claiming(SIBLING, leaked), mds, AT)).toEqual({
      ok: false,
      reason: "AUTHENTICATOR_REVOKED",
      message: expect.stringMatching(/does not name its model .* could be one of authenticator ee882879.*reported REVOKED/),
    });
    // A model with a status this service does not know makes its unbound siblings untrusted too.
    expect(trustVerdict(direct(), claiming(SIBLING, leaked), vendorCatalog(["SOMETHING_NEW"]), AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
    // When every model under the root is trusted, the unbound certificate is accepted.
    expect(trustVerdict(direct(), claiming(SIBLING, leaked), vendorCatalog(["FIDO_CERTIFIED_L2"]), AT)).toEqual({ ok: true });
  });

  it("a certificate naming its model may claim only that model, and is not held to a revoked sibling's status", async () => {
    const bound = await issue(batch, "bound", { subject: ATTESTATION_SUBJECT, extensions: [aaguidExtension(SIBLING)] });
    const mds = vendorCatalog(["FIDO_CERTIFIED_L1", "REVOKED"]);
    expect(trustVerdict(direct(), claiming(SIBLING, bound), mds, AT)).toEqual({ ok: true });
    const other = vendorCatalog(["FIDO_CERTIFIED_L1"]);
    expect(trustVerdict(direct(), claiming(AAGUID, bound), other, AT)).toEqual({
      ok: false,
      reason: "ATTESTATION_UNTRUSTED",
      message: `the attestation certificate is issued for authenticator ${SIBLING}, not ${AAGUID}`,
    });
  });
});

describe("MDS statuses and duplicate entries (issue 13, break 14)", () => {
  it("a duplicate AAGUID resolves to the most restrictive entry: REVOKED then clean, in any case, is refused", () => {
    const revokedThenClean = catalogOf(mdsEntry(AAGUID, "Key", [root.cert], ["REVOKED"]), mdsEntry(AAGUID.toUpperCase(), "Key", [root.cert]));
    expect(trustVerdict(direct(), authenticator(), revokedThenClean, AT)).toEqual(refusedWith("AUTHENTICATOR_REVOKED"));
    expect(revokedThenClean.entries.size).toBe(1);
    expect(revokedThenClean.findings).toEqual([`entry ${AAGUID}: listed more than once; the most restrictive reading is used`]);
  });

  it("a duplicate trusts only the roots every copy lists", async () => {
    const extra = await rootCa("Extra root");
    const mds = catalogOf(mdsEntry(AAGUID, "Key", [root.cert, extra.cert]), mdsEntry(AAGUID, "Key", [extra.cert]));
    expect(trustVerdict(direct(), authenticator(), mds, AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
  });

  it("statuses compare as MDS3 spells them: `revoked` and unknown statuses make the model untrusted and are reported", () => {
    for (const status of ["revoked", "Revoked", "FIDO_CERTIFIED_L1PLUS", "A_FUTURE_STATUS"]) {
      const mds = catalog({ statuses: ["FIDO_CERTIFIED_L1", status] });
      expect(trustVerdict(direct(), authenticator(), mds, AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
      expect(mds.findings).toEqual([`entry ${AAGUID}: status ${JSON.stringify(status)} is not an MDS3 status; the model is not trusted`]);
    }
    expect(trustVerdict(direct(), authenticator(), catalog({ statuses: ["FIDO_CERTIFIED_L1plus"] }), AT)).toEqual({ ok: true });
  });

  it("entries whose AAGUID is not a UUID are set aside and reported", () => {
    const mds = catalogOf(mdsEntry(AAGUID.replaceAll("-", ""), "Key", [root.cert]));
    expect(mds.entries.size).toBe(0);
    expect(mds.findings).toEqual([`entry "${AAGUID.replaceAll("-", "")}": not an AAGUID; ignored`]);
  });
});
