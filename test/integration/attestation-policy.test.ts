import { KeyObject } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MdsCatalog, verifyMdsBlob } from "../../src/attestation/mds-blob.js";
import { attestationPolicySchema } from "../../src/attestation/policy.js";
import { AttestationConveyance } from "../../src/gen/authn/v1/auth_service_pb.js";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import type { Reason } from "../../src/errors.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { aaguidExtension, issue, mdsEntry, mdsSigningPki, rootCa, signBlob, type Issued } from "../support/attestation-pki.js";

const YUBIKEY_5 = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
const DENIED = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"; // Google Password Manager

describe("tenant attestation policy through the service", () => {
  let direct: TestService;
  let strict: TestService;

  beforeAll(async () => {
    const pki = await mdsSigningPki();
    const blob = await signBlob(
      { no: 1, nextUpdate: "2060-01-01", entries: [mdsEntry(YUBIKEY_5, "YubiKey 5 (from MDS)", [(await rootCa("Yubico test root")).cert])] },
      pki.signer,
      pki.chain,
    );
    const mds = await verifyMdsBlob(blob, [pki.root.cert], new Date());
    direct = await startTestService(undefined, {
      tenant: { ...TEST_TENANT, attestation: attestationPolicySchema.parse({ conveyance: "direct" }) },
      mds,
    });
    strict = await startTestService(undefined, {
      tenant: { ...TEST_TENANT, attestation: attestationPolicySchema.parse({ aaguidDeny: [DENIED], allowBackupEligible: false }) },
    });
  });
  afterAll(() => closeAll(direct, strict));

  /** Registers over Connect; expects the refusal, then proves nothing was stored and the audit trail has the reason. */
  async function expectRefused(svc: TestService, authenticator: SoftAuthenticator, userId: string, reason: Reason) {
    await expectRpcError(register(svc, authenticator, userId), Code.Unauthenticated, reason);
    expect((await svc.connect.listCredentials({ userId })).credentials).toEqual([]);
    const events = (await svc.connect.listAuditEvents({ userId, pageSize: 50 })).events;
    const registrations = events.filter((e) => e.type === AuditEventType.REGISTRATION);
    expect(registrations.map((e) => [AuditOutcome[e.outcome], e.reason])).toEqual([["FAILURE", reason]]);
    return registrations[0]!;
  }

  it("a direct tenant asks for direct attestation, whatever the request prefers", async () => {
    const begin = await direct.connect.beginRegistration({
      userId: "asks",
      userName: "asks",
      preferences: { attestation: AttestationConveyance.NONE },
    });
    expect(JSON.parse(begin.optionsJson).attestation).toBe("direct");
  });

  it("a direct tenant refuses self attestation of a model MDS lists: no credential, a failure event with reason and provider", async () => {
    const event = await expectRefused(direct, new SoftAuthenticator({ aaguid: YUBIKEY_5, attestation: "packed-self" }), "self", "ATTESTATION_UNTRUSTED");
    expect(event.aaguid).toBe(YUBIKEY_5);
    expect(event.details.provider_name).toBe("YubiKey 5 (from MDS)");
  });

  it("a direct tenant refuses an authenticator without attestation (none)", async () => {
    await expectRefused(direct, new SoftAuthenticator(), "plain", "ATTESTATION_UNTRUSTED");
  });

  it("allowBackupEligible: false refuses a synced passkey", async () => {
    await expectRefused(strict, new SoftAuthenticator({ aaguid: YUBIKEY_5, backupEligible: true }), "synced", "BACKUP_ELIGIBLE_REFUSED");
  });

  it("allowBackupEligible: false refuses a sign-in in which a device-bound credential turns backup eligible; elsewhere it is accepted", async () => {
    const key = new SoftAuthenticator({ aaguid: YUBIKEY_5 });
    const credentialId = await register(strict, key, "turned-synced");
    const turned = await assertion(strict, key, "turned-synced", { backupEligible: true, counter: 7 });
    await expectRpcError(strict.connect.finishAuthentication({ credentialJson: turned }), Code.Unauthenticated, "BACKUP_ELIGIBLE_REFUSED");
    const events = (await strict.connect.listAuditEvents({ credentialId, pageSize: 50 })).events;
    expect(events.filter((e) => e.type === AuditEventType.AUTHENTICATION).map((e) => e.reason)).toEqual(["BACKUP_ELIGIBLE_REFUSED"]);
    // The refusal left the counter where it was: the same authenticator signs in with counter 1.
    const signIn = await strict.connect.finishAuthentication({ credentialJson: await assertion(strict, key, "turned-synced", { counter: 1 }) });
    expect(signIn.userId).toBe("turned-synced");

    const lenient = await startTestService({ dynamo: strict.dynamo, tablePrefix: strict.tablePrefix, signingKey: strict.signingKey, clock: strict.clock });
    try {
      const other = new SoftAuthenticator();
      await register(lenient, other, "may-sync");
      const synced = await lenient.connect.finishAuthentication({ credentialJson: await assertion(lenient, other, "may-sync", { backupEligible: true }) });
      expect(synced.userId).toBe("may-sync");
    } finally {
      await lenient.close();
    }
  });

  it("the deny-list refuses its AAGUID", async () => {
    await expectRefused(strict, new SoftAuthenticator({ aaguid: DENIED }), "denied", "AAGUID_NOT_ALLOWED");
  });

  it("an accepted credential carries its provider name in ListCredentials and the audit event", async () => {
    await register(strict, new SoftAuthenticator({ aaguid: YUBIKEY_5 }), "accepted");
    const [credential] = (await strict.connect.listCredentials({ userId: "accepted" })).credentials;
    expect(credential?.providerName).toBe("YubiKey 5 Series");
    const events = (await strict.connect.listAuditEvents({ userId: "accepted", pageSize: 50 })).events;
    const success = events.find((e) => e.type === AuditEventType.REGISTRATION && e.outcome === AuditOutcome.SUCCESS);
    expect(success?.details.provider_name).toBe("YubiKey 5 Series");
  });

  it("a tenant that verifies attestation cannot start without a BLOB", async () => {
    await expect(
      startTestService(undefined, { tenant: { ...TEST_TENANT, attestation: attestationPolicySchema.parse({ conveyance: "enterprise" }) } }),
    ).rejects.toThrow(/set MDS_BLOB_FILE/);
  });

  it("a verifying tenant refuses sign-in with a registered credential once MDS reports its model's user keys compromised", async () => {
    const pki = await mdsSigningPki();
    const reported = async (status: string): Promise<MdsCatalog> => {
      const entries = [mdsEntry(YUBIKEY_5, "YubiKey 5", [pki.root.cert], ["FIDO_CERTIFIED_L1", status])];
      return verifyMdsBlob(await signBlob({ no: 2, nextUpdate: "2060-01-01", entries }, pki.signer, pki.chain), [pki.root.cert], new Date());
    };
    // Registered while the tenant accepted any authenticator; the same tables, now served with MDS.
    const key = new SoftAuthenticator({ aaguid: YUBIKEY_5 });
    await register(strict, key, "compromised");
    const tenant = { ...TEST_TENANT, attestation: attestationPolicySchema.parse({ conveyance: "direct" }) };
    const revoked = await startTestService(strict, { tenant, mds: await reported("REVOKED") });
    const leaked = await startTestService(strict, { tenant, mds: await reported("USER_KEY_REMOTE_COMPROMISE") });
    try {
      // REVOKED stops new registrations only; registered credentials keep signing in.
      const ok = await revoked.connect.finishAuthentication({ credentialJson: await assertion(revoked, key, "compromised") });
      expect(ok.sessionToken).not.toBe("");
      await expectRpcError(
        leaked.connect.finishAuthentication({ credentialJson: await assertion(leaked, key, "compromised") }),
        Code.Unauthenticated,
        "AUTHENTICATOR_REVOKED",
      );
      const events = (await leaked.connect.listAuditEvents({ userId: "compromised", pageSize: 50 })).events;
      expect(events.filter((e) => e.type === AuditEventType.AUTHENTICATION).map((e) => [AuditOutcome[e.outcome], e.reason])).toEqual(
        expect.arrayContaining([["FAILURE", "AUTHENTICATOR_REVOKED"], ["SUCCESS", ""]]),
      );
    } finally {
      await closeAll(revoked, leaked);
    }
  });
});

describe("attestation certificates against FIDO MDS through the service (issue 13)", () => {
  const MODEL_A = "0d9b2e56-1111-4a4a-8a8a-000000000001"; // its attestation key is reported compromised
  const MODEL_B = "0d9b2e56-1111-4a4a-8a8a-000000000002"; // a clean sibling under the same vendor root
  const DUPLICATED = "0d9b2e56-1111-4a4a-8a8a-000000000003"; // listed REVOKED, then again clean
  const LOWER_CASE = "0d9b2e56-1111-4a4a-8a8a-000000000004"; // status `revoked`
  const SUBJECT = "C=US, O=Vendor, OU=Authenticator Attestation, CN=Vendor Key";
  let svc: TestService;
  let vendor: Issued;
  let batch: Issued;
  let leaked: Issued;

  /** A key with full packed attestation by `leaf`, whose x5c is `[leaf, ...above]`. */
  const attested = (aaguid: string, leaf: Issued, above: readonly Issued[] = [batch]) =>
    new SoftAuthenticator({
      aaguid,
      attestation: "packed",
      attestationCertificate: { privateKey: KeyObject.from(leaf.keys.privateKey), x5c: [leaf.cert.raw, ...above.map((c) => c.cert.raw)] },
    });
  const boundTo = (aaguid: string, issuer: Issued = batch) => issue(issuer, "bound", { subject: SUBJECT, extensions: [aaguidExtension(aaguid)] });

  beforeAll(async () => {
    vendor = await rootCa("Vendor root");
    batch = await issue(vendor, "Vendor batch CA", { ca: true });
    leaked = await issue(batch, "leaked", { subject: SUBJECT }); // no id-fido-gen-ce-aaguid, as FIDO allows
    const pki = await mdsSigningPki();
    const entries = [
      mdsEntry(MODEL_A, "Model A", [vendor.cert], ["FIDO_CERTIFIED_L1", { status: "ATTESTATION_KEY_COMPROMISE", certificate: leaked.cert }]),
      mdsEntry(MODEL_B, "Model B", [vendor.cert]),
      mdsEntry(DUPLICATED, "Duplicated", [vendor.cert], ["REVOKED"]),
      mdsEntry(DUPLICATED.toUpperCase(), "Duplicated", [vendor.cert], ["FIDO_CERTIFIED_L2"]),
      mdsEntry(LOWER_CASE, "Lower case", [vendor.cert], ["revoked"]),
    ];
    const mds = await verifyMdsBlob(await signBlob({ no: 3, nextUpdate: "2060-01-01", entries }, pki.signer, pki.chain), [pki.root.cert], new Date());
    svc = await startTestService(undefined, { tenant: { ...TEST_TENANT, attestation: attestationPolicySchema.parse({ conveyance: "direct" }) }, mds });
  });
  afterAll(() => closeAll(svc));

  async function expectRefusedWith(authenticator: SoftAuthenticator, userId: string, reason: Reason) {
    await expectRpcError(register(svc, authenticator, userId), Code.Unauthenticated, reason);
    expect((await svc.connect.listCredentials({ userId })).credentials).toEqual([]);
  }

  it("break 10: the compromised attestation key is refused under its own model and when it claims a sibling model", async () => {
    await expectRefusedWith(attested(MODEL_A, leaked), "own-model", "AUTHENTICATOR_REVOKED");
    await expectRefusedWith(attested(MODEL_B, leaked), "sibling-model", "AUTHENTICATOR_REVOKED");
  });

  it("break 10: a certificate bound to the sibling model (id-fido-gen-ce-aaguid) still registers", async () => {
    await register(svc, attested(MODEL_B, await boundTo(MODEL_B)), "sibling-bound");
    const [credential] = (await svc.connect.listCredentials({ userId: "sibling-bound" })).credentials;
    expect(credential?.providerName).toBe("Model B");
  });

  it("break 13: an attestation chain that breaks a pathLenConstraint is refused", async () => {
    const i1 = await issue(vendor, "I1", { ca: true, pathLength: 0 });
    const i2 = await issue(i1, "I2", { ca: true });
    await expectRefusedWith(attested(MODEL_B, await boundTo(MODEL_B, i2), [i2, i1]), "too-deep", "ATTESTATION_UNTRUSTED");
  });

  it("break 14: a duplicated AAGUID listed REVOKED once is refused; a status spelled `revoked` makes the model untrusted", async () => {
    await expectRefusedWith(attested(DUPLICATED, await boundTo(DUPLICATED)), "duplicated", "AUTHENTICATOR_REVOKED");
    await expectRefusedWith(attested(LOWER_CASE, await boundTo(LOWER_CASE)), "lower-case", "ATTESTATION_UNTRUSTED");
  });
});
