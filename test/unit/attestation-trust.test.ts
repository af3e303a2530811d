import type { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { chainProblem } from "../../src/attestation/cert-chain.js";
import { conveyanceFor } from "../../src/attestation/conveyance.js";
import type { MdsCatalog, MdsEntry } from "../../src/attestation/mds-blob.js";
import { attestationPolicySchema, type AttestationPolicy } from "../../src/attestation/policy.js";
import { ProviderNames } from "../../src/attestation/provider-names.js";
import { REFUSED_STATUSES, signInVerdict, trustVerdict, type AttestedAuthenticator } from "../../src/attestation/trust-policy.js";
import { issue, rootCa, type Issued } from "../support/attestation-pki.js";

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

function catalog(entry: Partial<MdsEntry> = {}): MdsCatalog {
  const full: MdsEntry = { aaguid: AAGUID, description: "Test Key", attestationRoots: [root.cert], statusReports: [], ...entry };
  return { no: 1, nextUpdate: new Date("2026-07-01T00:00:00Z"), entries: new Map([[full.aaguid, full]]) };
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
    const reports = [{ status: "FIDO_CERTIFIED_L1", effectiveDate: "2020-01-01" }, { status, effectiveDate: "2021-01-01" }, { status: "UPDATE_AVAILABLE", effectiveDate: "2022-01-01" }];
    expect(trustVerdict(direct(), authenticator(), catalog({ statusReports: reports }), AT)).toEqual(refusedWith("AUTHENTICATOR_REVOKED"));
  });

  it("direct accepts certified and informational statuses", () => {
    const reports = ["FIDO_CERTIFIED_L2", "UPDATE_AVAILABLE", "NOT_FIDO_CERTIFIED"].map((status) => ({ status, effectiveDate: undefined }));
    expect(trustVerdict(direct(), authenticator(), catalog({ statusReports: reports }), AT)).toEqual({ ok: true });
  });

  it("direct refuses none and self attestation (no certificate)", () => {
    expect(trustVerdict(direct(), authenticator({ chain: () => [] }), catalog(), AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
  });

  it("direct refuses a chain to another root, and one with an expired certificate", async () => {
    const stranger = await rootCa("Test attestation root");
    expect(trustVerdict(direct(), authenticator(), catalog({ attestationRoots: [stranger.cert] }), AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
    expect(trustVerdict(direct(), authenticator({ chain: () => expiredChain }), catalog(), AT)).toEqual(refusedWith("ATTESTATION_UNTRUSTED"));
  });
});

describe("sign-in verdict", () => {
  const reported = (status: string) => catalog({ statusReports: [{ status, effectiveDate: "2024-01-01" }] });

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

describe("certificate chains", () => {
  it("accepts an anchor in the chain or one that issues its top; refuses a path that lacks its intermediate", () => {
    expect(chainProblem(leafChain, [root.cert], AT)).toBeUndefined();
    expect(chainProblem(leafChain, [leafChain[1]!], AT)).toBeUndefined();
    expect(chainProblem(leafChain.slice(0, 1), [root.cert], AT)).toMatch(/does not lead to a trust anchor/);
    // A leaf listed as an anchor is trusted as such (MDS lists CAs; this documents the rule).
    expect(chainProblem(leafChain, [leafChain[0]!], AT)).toBeUndefined();
  });

  it("refuses a chain whose anchor has expired", async () => {
    const oldRoot = await rootCa("old root", { notAfter: new Date("2026-01-01T00:00:00Z") });
    const chain = [(await issue(oldRoot, "leaf")).cert];
    expect(chainProblem(chain, [oldRoot.cert], AT)).toMatch(/trust anchor is not valid/);
  });
});

describe("attestation conveyance", () => {
  it("the request chooses under none; a verifying tenant's conveyance wins", () => {
    expect(conveyanceFor(policy(), "direct")).toBe("direct");
    expect(conveyanceFor(policy(), "none")).toBe("none");
    expect(conveyanceFor(direct(), "none")).toBe("direct");
    expect(conveyanceFor(policy({ conveyance: "enterprise" }), "indirect")).toBe("enterprise");
  });
});

describe("provider names", () => {
  it("names passkey providers and keys from the community list, MDS descriptions first", () => {
    const names = new ProviderNames();
    expect(names.nameOf("fbfc3007-154e-4ecc-8c0b-6e020557d7bd")).toBe("Apple Passwords");
    expect(names.nameOf("EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4")).toBe("Google Password Manager");
    expect(names.nameOf("00000000-0000-0000-0000-000000000000")).toBe("");
    expect(names.nameOf("12345678-0000-4000-8000-000000000000")).toBe("");
    expect(names.nameOf("constructor")).toBe("");
    const mds = catalog({ aaguid: "fbfc3007-154e-4ecc-8c0b-6e020557d7bd", description: "From MDS" });
    const withMds = new ProviderNames(() => mds);
    expect(withMds.nameOf("fbfc3007-154e-4ecc-8c0b-6e020557d7bd")).toBe("From MDS");
    expect(withMds.nameOf("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")).toBe("Google Password Manager");
  });
});
