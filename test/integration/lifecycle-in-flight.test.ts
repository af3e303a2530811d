import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, DenyReason, type VerifyOperationResponse } from "../../src/gen/authn/v1/step_up_pb.js";
import { createLogger } from "../../src/logger.js";
import { TenantsFileReloader } from "../../src/tenants-file-reloader.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, ORIGIN, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { signedInUser, transfer } from "../support/step-up.js";

/** The verdict as [decision, deny reason]. */
const verdict = (res: VerifyOperationResponse) => [
  Decision[res.decision],
  res.details.case === "denied" ? DenyReason[res.details.value.reason] : undefined,
];

/** Lifecycle operations (erase, revoke) against ceremonies, sessions and grants already in flight. */
describe("lifecycle operations against work in flight", () => {
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    a = await startTestService();
    b = await startTestService(a);
  });
  afterAll(() => closeAll(a, b));

  const beginRegistration = async (svc: TestService, userId: string) =>
    (await svc.connect.beginRegistration({ userId, userName: `${userId}@example.com` })).optionsJson;
  const finishRegistration = (svc: TestService, authenticator: SoftAuthenticator, optionsJson: string) =>
    svc.connect.finishRegistration({ credentialJson: JSON.stringify(authenticator.create(optionsJson, ORIGIN)) });

  it("a registration begun before DeleteUser cannot finish after it, on any replica, nor after the user starts anew", async () => {
    await register(a, new SoftAuthenticator(), "reg-erased");
    const begunBefore = await beginRegistration(a, "reg-erased");
    const alsoBegunBefore = await beginRegistration(a, "reg-erased");
    await a.connect.deleteUser({ userId: "reg-erased" });

    await expectRpcError(finishRegistration(b, new SoftAuthenticator(), begunBefore), Code.Unauthenticated, "CHALLENGE_INVALID");
    expect((await a.connect.listCredentials({ userId: "reg-erased" })).credentials).toEqual([]);

    // The user id comes back (a new account, a new handle): the old ceremony still names the erased handle.
    const begunAfter = await beginRegistration(a, "reg-erased");
    await expectRpcError(finishRegistration(a, new SoftAuthenticator(), alsoBegunBefore), Code.Unauthenticated, "CHALLENGE_INVALID");
    const fresh = await finishRegistration(a, new SoftAuthenticator(), begunAfter);
    expect((await a.connect.listCredentials({ userId: "reg-erased" })).credentials.map((c) => c.credentialId)).toEqual([
      fresh.credential!.credentialId,
    ]);
    // The refusal is audited with its reason.
    const { events } = await a.connect.listAuditEvents({ userId: "reg-erased" });
    expect(events.some((e) => e.reason === "CHALLENGE_INVALID" && e.credentialId !== "")).toBe(true);
  });

  it("a sign-in begun before RevokeCredential or DeleteUser fails at the counter write, even where the credential is cached", async () => {
    const revoked = new SoftAuthenticator();
    const revokedId = await register(a, revoked, "signin-inflight");
    await b.connect.finishAuthentication({ credentialJson: await assertion(b, revoked, "signin-inflight") }); // b caches it
    const begunBeforeRevoke = await assertion(b, revoked, "signin-inflight");
    await a.connect.revokeCredential({ userId: "signin-inflight", credentialId: revokedId, reason: "lost" });
    await expectRpcError(b.connect.finishAuthentication({ credentialJson: begunBeforeRevoke }), Code.Unauthenticated, "CREDENTIAL_REVOKED");

    const erased = new SoftAuthenticator();
    await register(b, erased, "signin-inflight"); // on b, which drops its cached allowCredentials list
    await b.connect.finishAuthentication({ credentialJson: await assertion(b, erased, "signin-inflight") });
    const begunBeforeErase = await assertion(b, erased, "signin-inflight");
    await a.connect.deleteUser({ userId: "signin-inflight" });
    await expectRpcError(b.connect.finishAuthentication({ credentialJson: begunBeforeErase }), Code.Unauthenticated, "CREDENTIAL_UNKNOWN");
  });

  it("a step-up begun before RevokeCredential is denied CREDENTIAL_REVOKED; one begun before DeleteUser, and a grant issued before it, SESSION_REVOKED", async () => {
    const alice = await signedInUser(a, "stepup-inflight");
    const second = await signedInUser(a, "stepup-inflight");
    const op = { sessionToken: alice.sessionToken, operation: transfer(10), requirement: { singleUse: true } };
    const stepUpOptions = async () => {
      const res = await b.connect.verifyOperation(op);
      expect(res.details.case).toBe("stepUpRequired");
      return res.details.case === "stepUpRequired" ? res.details.value.optionsJson : "";
    };
    const withAssertion = (json: string) => ({ ...op, evidence: { case: "credentialJson" as const, value: json } });

    // Begun with the second passkey, which is then revoked: alice's session (from the first) stays valid.
    const begunBeforeRevoke = JSON.stringify(second.authenticator.get(await stepUpOptions(), ORIGIN, { credentialId: second.credentialId }));
    await a.connect.revokeCredential({ userId: alice.userId, credentialId: second.credentialId, reason: "lost" });
    expect(verdict(await b.connect.verifyOperation(withAssertion(begunBeforeRevoke)))).toEqual(["DENY", "CREDENTIAL_REVOKED"]);

    const reusable = { ...op, requirement: { maxAge: { seconds: 60n } } };
    const grantRes = await b.connect.verifyOperation(reusable);
    const grant = grantRes.details.case === "allowed" ? grantRes.details.value.stepUpGrant : "";
    expect(grant).not.toBe("");
    const begunBeforeErase = JSON.stringify(alice.authenticator.get(await stepUpOptions(), ORIGIN));
    await a.connect.deleteUser({ userId: alice.userId });
    // (Replica b may answer from a view of revocation up to SESSION_REVOCATION_STALENESS_SECONDS old.)
    expect(verdict(await a.connect.verifyOperation(withAssertion(begunBeforeErase)))).toEqual(["DENY", "SESSION_REVOKED"]);
    expect(verdict(await a.connect.verifyOperation({ ...reusable, evidence: { case: "stepUpGrant", value: grant } }))).toEqual([
      "DENY",
      "SESSION_REVOKED",
    ]);
  });
});

/** Issue 13, break 4: a reload that shortens a tenant's session lifetime must not hide older sessions. */
describe("sessions issued before a reload that shortened the session lifetime", () => {
  const dir = mkdtempSync(join(tmpdir(), "dynauthn-lifetime-"));
  const path = join(dir, "dynauthn.yaml");
  let version = 0;
  /** The test tenant as a tenants file with `sessionTtlSeconds`; a new mtime each time. */
  const writeTenantsFile = (sessionTtlSeconds: number) => {
    const t = TEST_TENANT;
    writeFileSync(
      path,
      `tenants:\n  - {id: ${t.id}, rpId: ${t.rpId}, rpName: ${t.rpName}, origins: [${ORIGIN}], sessionTtlSeconds: ${sessionTtlSeconds}}\n`,
    );
    const mtime = new Date(Date.UTC(2026, 0, 1) + ++version * 1000);
    utimesSync(path, mtime, mtime);
  };
  let svc: TestService;
  let reloader: TenantsFileReloader;

  beforeAll(async () => {
    svc = await startTestService(undefined, { tenant: { ...TEST_TENANT, sessionTtlSeconds: 3600 } });
    writeTenantsFile(3600);
    reloader = new TenantsFileReloader({
      path,
      defaults: { challengeTtlSeconds: 300, sessionTtlSeconds: 3600 },
      tenants: svc.app.tenants,
      authorizer: undefined,
      hasMetadata: false,
      logger: createLogger("silent"),
    });
    await reloader.start(0);
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Signs in under the 3600 s lifetime, then reloads with 60 s and lets 61 s pass. */
  const signInThenShorten = async (userId: string) => {
    writeTenantsFile(3600);
    expect(await reloader.reload()).toBe(true);
    const user = await signedInUser(svc, userId);
    writeTenantsFile(60);
    expect(await reloader.reload()).toBe(true);
    expect(svc.app.tenants.defaultTenant.sessionTtlSeconds).toBe(60);
    svc.clock.advance(61_000);
    return user;
  };

  it("ListSessions lists it and RevokeAllSessions revokes it: VerifyOperation then denies its token", async () => {
    const user = await signInThenShorten("shortened");
    const sessionId = decodeJwt(user.sessionToken).jti;
    expect((await svc.connect.listSessions({ userId: "shortened" })).sessions.map((s) => s.sessionId)).toEqual([sessionId]);
    expect(await svc.connect.revokeAllSessions({ userId: "shortened" })).toMatchObject({ revokedSessions: 1 });
    expect(verdict(await svc.connect.verifyOperation({ sessionToken: user.sessionToken, operation: transfer(1) }))).toEqual([
      "DENY",
      "SESSION_REVOKED",
    ]);
  });

  it("RevokeCredential and DeleteUser revoke it", async () => {
    const revoked = await signInThenShorten("shortened-revoked");
    await svc.connect.revokeCredential({ userId: revoked.userId, credentialId: revoked.credentialId, reason: "lost" });
    const erased = await signInThenShorten("shortened-erased");
    await svc.connect.deleteUser({ userId: erased.userId });
    for (const user of [revoked, erased]) {
      expect(verdict(await svc.connect.verifyOperation({ sessionToken: user.sessionToken, operation: transfer(1) }))).toEqual([
        "DENY",
        "SESSION_REVOKED",
      ]);
    }
  });
});
