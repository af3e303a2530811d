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
import { mdsEntry, mdsSigningPki, rootCa, signBlob } from "../support/attestation-pki.js";

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
