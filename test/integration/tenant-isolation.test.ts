/**
 * Tenants share tables, never data: every key starts with the tenant. Tenant "beta" has the
 * same RP ID and origin as the default tenant, so only the tenant prefix keeps them apart;
 * "gamma" is a relying party of its own with stricter policies.
 */
import { Code } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantConfig } from "../../src/tenants/tenant-config.js";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import { Decision, DenyReason } from "../../src/gen/authn/v1/step_up_pb.js";
import { UserVerificationRequirement } from "../../src/gen/authn/v1/auth_service_pb.js";
import { expectRpcError } from "../support/ceremonies.js";
import { closeAll, ORIGIN, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { signedInUser, transfer, type SignedInUser } from "../support/step-up.js";

const BETA: TenantConfig = { ...TEST_TENANT, id: "beta" };
const GAMMA_ORIGIN = "https://login.gamma.example";
const GAMMA: TenantConfig = {
  ...TEST_TENANT,
  id: "gamma",
  rpId: "gamma.example",
  rpName: "Gamma",
  origins: [GAMMA_ORIGIN],
  userVerification: "required",
  algorithms: [-8],
};

describe("tenant isolation", () => {
  let svc: TestService;
  let alice: SignedInUser;
  let sessionId: string;

  beforeAll(async () => {
    svc = await startTestService(undefined, { tenants: [BETA, GAMMA] });
    alice = await signedInUser(svc, "alice");
    sessionId = decodeJwt(alice.sessionToken).jti!;
  });
  afterAll(() => closeAll(svc));

  /** The default tenant's view of alice, which no call in beta may change. */
  async function expectAliceUnchanged(): Promise<void> {
    const { credentials } = await svc.connect.listCredentials({ userId: "alice" });
    expect(credentials.map((c) => [c.credentialId, c.name, c.revokedAt])).toEqual([[alice.credentialId, "", undefined]]);
    const { sessions } = await svc.connect.listSessions({ userId: "alice" });
    expect(sessions.map((s) => [s.sessionId, s.revokedAt])).toEqual([[sessionId, undefined]]);
  }

  it("a credential of tenant A cannot sign in to tenant B (same RP ID and origin)", async () => {
    const begin = await svc.connect.beginAuthentication({ tenant: "beta", userId: "alice" });
    const allowed = JSON.parse(begin.optionsJson).allowCredentials.map((c: { id: string }) => c.id);
    expect(allowed).not.toContain(alice.credentialId);
    const discoverable = await svc.connect.beginAuthentication({ tenant: "beta" });
    const response = alice.authenticator.get(discoverable.optionsJson, ORIGIN, { credentialId: alice.credentialId });
    await expectRpcError(
      svc.connect.finishAuthentication({ tenant: "beta", credentialJson: JSON.stringify(response) }),
      Code.Unauthenticated,
      "CREDENTIAL_UNKNOWN",
    );
    await expectAliceUnchanged();
  });

  it("tenant B lists nothing of A's and cannot rename, revoke or erase it", async () => {
    expect((await svc.connect.listCredentials({ tenant: "beta", userId: "alice" })).credentials).toEqual([]);
    const target = { tenant: "beta", userId: "alice", credentialId: alice.credentialId };
    await expectRpcError(svc.connect.renameCredential({ ...target, name: "mine" }), Code.NotFound, "CREDENTIAL_NOT_FOUND");
    await expectRpcError(svc.connect.revokeCredential({ ...target, reason: "stolen" }), Code.NotFound, "CREDENTIAL_NOT_FOUND");
    expect((await svc.connect.deleteUser({ tenant: "beta", userId: "alice" })).deletedCredentials).toBe(0);
    await expectAliceUnchanged();
  });

  it("tenant B sees none of A's audit events or sessions and cannot revoke them", async () => {
    const inA = (await svc.connect.listAuditEvents({ userId: "alice" })).events;
    expect(inA.map((e) => e.type)).toEqual(expect.arrayContaining([AuditEventType.REGISTRATION, AuditEventType.AUTHENTICATION]));
    // Beta holds only its own events about the refusals above, none of A's.
    const byUser = (await svc.connect.listAuditEvents({ tenant: "beta", userId: "alice" })).events;
    const byCredential = (await svc.connect.listAuditEvents({ tenant: "beta", credentialId: alice.credentialId })).events;
    for (const e of [...byUser, ...byCredential]) {
      expect(e.tenant).toBe("beta");
      expect(inA.map((a) => a.eventId)).not.toContain(e.eventId);
      expect(e.outcome === AuditOutcome.FAILURE || e.type === AuditEventType.USER_ERASED).toBe(true);
    }
    expect((await svc.connect.listSessions({ tenant: "beta", userId: "alice" })).sessions).toEqual([]);
    await expectRpcError(svc.connect.revokeSession({ tenant: "beta", sessionId }), Code.NotFound, "SESSION_NOT_FOUND");
    expect((await svc.connect.revokeAllSessions({ tenant: "beta", userId: "alice" })).revokedSessions).toBe(0);
    await expectAliceUnchanged();
  });

  it("A's session token is no evidence in tenant B", async () => {
    const verdict = await svc.connect.verifyOperation({ tenant: "beta", sessionToken: alice.sessionToken, operation: transfer(10) });
    expect(verdict.decision).toBe(Decision.DENY);
    expect(verdict.details.case === "denied" && verdict.details.value.reason).toBe(DenyReason.TOKEN_INVALID);
  });

  it("a ceremony begun in A cannot be finished in B, and stays usable in A", async () => {
    const begin = await svc.connect.beginAuthentication({ userId: "alice" });
    const credentialJson = JSON.stringify(alice.authenticator.get(begin.optionsJson, ORIGIN));
    await expectRpcError(svc.connect.finishAuthentication({ tenant: "beta", credentialJson }), Code.Unauthenticated, "CHALLENGE_INVALID");
    expect((await svc.connect.finishAuthentication({ credentialJson })).userId).toBe("alice");

    const registration = await svc.connect.beginRegistration({ userId: "bob", userName: "bob" });
    const created = JSON.stringify(new SoftAuthenticator().create(registration.optionsJson, ORIGIN));
    await expectRpcError(svc.connect.finishRegistration({ tenant: "beta", credentialJson: created }), Code.Unauthenticated, "CHALLENGE_INVALID");
    expect((await svc.connect.listCredentials({ tenant: "beta", userId: "bob" })).credentials).toEqual([]);
    expect((await svc.connect.finishRegistration({ credentialJson: created })).credential?.userId).toBe("bob");
  });

  it("an unconfigured tenant is TENANT_UNKNOWN", async () => {
    await expectRpcError(svc.connect.listCredentials({ tenant: "delta", userId: "alice" }), Code.InvalidArgument, "TENANT_UNKNOWN");
  });
});

describe("a tenant with its own relying party and policies", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(undefined, { tenants: [GAMMA] });
  });
  afterAll(() => closeAll(svc));

  it("registers and signs in end to end with its RP ID, origin and algorithm list", async () => {
    const authenticator = new SoftAuthenticator({ alg: -8 });
    const begin = await svc.connect.beginRegistration({ tenant: "gamma", userId: "carol", userName: "carol" });
    const options = JSON.parse(begin.optionsJson);
    expect(options.rp).toEqual({ id: "gamma.example", name: "Gamma" });
    expect(options.pubKeyCredParams).toEqual([{ type: "public-key", alg: -8 }]);
    const created = authenticator.create(options, GAMMA_ORIGIN);
    const { credential } = await svc.connect.finishRegistration({ tenant: "gamma", credentialJson: JSON.stringify(created) });

    const signIn = await svc.connect.beginAuthentication({ tenant: "gamma", userId: "carol" });
    expect(JSON.parse(signIn.optionsJson).rpId).toBe("gamma.example");
    const done = await svc.connect.finishAuthentication({
      tenant: "gamma",
      credentialJson: JSON.stringify(authenticator.get(signIn.optionsJson, GAMMA_ORIGIN)),
    });
    expect(done.credentialId).toBe(credential?.credentialId);
    expect(decodeJwt(done.sessionToken)).toMatchObject({ sub: "carol", tid: "gamma" });
  });

  it("refuses another tenant's origin", async () => {
    const begin = await svc.connect.beginRegistration({ tenant: "gamma", userId: "dave", userName: "dave" });
    const created = new SoftAuthenticator({ alg: -8 }).create(begin.optionsJson, ORIGIN);
    await expectRpcError(
      svc.connect.finishRegistration({ tenant: "gamma", credentialJson: JSON.stringify(created) }),
      Code.Unauthenticated,
      "ORIGIN_MISMATCH",
    );
  });

  it("verifies only the tenant's algorithms, whatever the authenticator was offered", async () => {
    const begin = await svc.connect.beginRegistration({ tenant: "gamma", userId: "erin", userName: "erin" });
    const widened = { ...JSON.parse(begin.optionsJson), pubKeyCredParams: [{ type: "public-key", alg: -7 }] };
    const created = new SoftAuthenticator({ alg: -7 }).create(widened, GAMMA_ORIGIN);
    await expectRpcError(
      svc.connect.finishRegistration({ tenant: "gamma", credentialJson: JSON.stringify(created) }),
      Code.Unauthenticated,
      "ALGORITHM_UNSUPPORTED",
    );
  });

  it("raises a request for less user verification to the tenant's floor and enforces it", async () => {
    const begin = await svc.connect.beginRegistration({
      tenant: "gamma",
      userId: "frank",
      userName: "frank",
      preferences: { userVerification: UserVerificationRequirement.DISCOURAGED },
    });
    expect(JSON.parse(begin.optionsJson).authenticatorSelection.userVerification).toBe("required");
    const created = new SoftAuthenticator({ alg: -8, userVerification: false }).create(begin.optionsJson, GAMMA_ORIGIN);
    await expectRpcError(
      svc.connect.finishRegistration({ tenant: "gamma", credentialJson: JSON.stringify(created) }),
      Code.Unauthenticated,
      "USER_VERIFICATION_REQUIRED",
    );
    const signIn = await svc.connect.beginAuthentication({ tenant: "gamma", userVerification: UserVerificationRequirement.PREFERRED });
    expect(JSON.parse(signIn.optionsJson).userVerification).toBe("required");
  });
});
