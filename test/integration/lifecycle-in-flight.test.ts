import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { Code } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, DenyReason, type VerifyOperationResponse } from "../../src/gen/authn/v1/step_up_pb.js";
import { createLogger } from "../../src/logger.js";
import { tenantKey } from "../../src/store/keys.js";
import { tableNames } from "../../src/store/tables.js";
import { TenantsFileReloader } from "../../src/tenants/tenants-file-reloader.js";
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

  it("DeleteUser erases a credential the by-user index does not show yet (the index lags behind a registration of a moment ago)", async () => {
    const authenticator = new SoftAuthenticator();
    const credentialId = await register(a, authenticator, "index-lag");
    // What an index that has not caught up looks like: the credential is not under the user in it.
    await a.dynamo.send(
      new UpdateItemCommand({
        TableName: tableNames(a.tablePrefix).credentials,
        Key: { pk: { S: tenantKey("default", credentialId) } },
        UpdateExpression: "REMOVE userKey",
      }),
    );
    expect((await a.connect.listCredentials({ userId: "index-lag" })).credentials).toEqual([]);
    expect(await a.connect.deleteUser({ userId: "index-lag" })).toMatchObject({ deletedCredentials: 1 });
    await expectRpcError(
      a.connect.finishAuthentication({ credentialJson: await assertion(a, authenticator, undefined) }),
      Code.Unauthenticated,
      "CREDENTIAL_UNKNOWN",
    );
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

  it("a grant made with a passkey revoked since is refused CREDENTIAL_REVOKED, though the session it was issued under lives on", async () => {
    const bob = await signedInUser(a, "grant-outlives");
    const second = await signedInUser(a, "grant-outlives");
    const op = { sessionToken: bob.sessionToken, operation: transfer(20), requirement: { maxAge: { seconds: 60n } } };
    a.clock.advance(61_000);
    const needed = await a.connect.verifyOperation(op);
    const optionsJson = needed.details.case === "stepUpRequired" ? needed.details.value.optionsJson : "";
    const stepped = JSON.stringify(second.authenticator.get(optionsJson, ORIGIN, { credentialId: second.credentialId }));
    const allowed = await a.connect.verifyOperation({ ...op, evidence: { case: "credentialJson", value: stepped } });
    const grant = allowed.details.case === "allowed" ? allowed.details.value.stepUpGrant : "";
    const withGrant = { ...op, evidence: { case: "stepUpGrant" as const, value: grant } };
    expect(verdict(await b.connect.verifyOperation(withGrant))).toEqual(["ALLOW", undefined]);

    // bob's session came from his other passkey, so it survives; the grant does not.
    await a.connect.revokeCredential({ userId: bob.userId, credentialId: second.credentialId, reason: "lost" });
    expect(verdict(await b.connect.verifyOperation(withGrant))).toEqual(["DENY", "CREDENTIAL_REVOKED"]);
    expect(verdict(await b.connect.verifyOperation({ ...op, requirement: {} }))).toEqual(["ALLOW", undefined]);
  });

  it("a grant is bound to its session: revoking the credential or the session, or erasing the user, ends it; it never moves to another session", async () => {
    const userId = "grant-bound";
    const op = transfer(100);
    const grantOf = async (sessionToken: string) => {
      const res = await a.connect.verifyOperation({ sessionToken, operation: op });
      expect(res.details.case).toBe("allowed");
      return res.details.case === "allowed" ? res.details.value.stepUpGrant : "";
    };
    const verdicts = (sessionToken: string, grant: string) =>
      Promise.all(
        [{ maxAge: { seconds: 600n } }, { singleUse: true }].map(async (requirement) =>
          verdict(await a.connect.verifyOperation({ sessionToken, operation: op, requirement, evidence: { case: "stepUpGrant", value: grant } })),
        ),
      );
    const refusedBy = (reason: string) => [
      ["DENY", reason],
      ["DENY", reason],
    ];

    const first = await signedInUser(a, userId);
    const second = await signedInUser(a, userId);
    const third = await signedInUser(a, userId);
    const firstGrant = await grantOf(first.sessionToken);
    expect(await verdicts(second.sessionToken, firstGrant)).toEqual(refusedBy("SUBJECT_MISMATCH"));
    // RevokeCredential revokes the session the grant was issued under.
    await a.connect.revokeCredential({ userId, credentialId: first.credentialId, reason: "lost" });
    expect(await verdicts(first.sessionToken, firstGrant)).toEqual(refusedBy("SESSION_REVOKED"));
    expect(await verdicts(second.sessionToken, firstGrant)).toEqual(refusedBy("SUBJECT_MISMATCH"));

    const secondGrant = await grantOf(second.sessionToken);
    // A token-only ALLOW's grant: reusable, but it never meets single use (it wraps the session token alone).
    expect(await verdicts(second.sessionToken, secondGrant)).toEqual([
      ["ALLOW", undefined],
      ["STEP_UP_REQUIRED", undefined],
    ]);
    await a.connect.revokeSession({ sessionId: decodeJwt(second.sessionToken).jti! });
    expect(await verdicts(third.sessionToken, secondGrant)).toEqual(refusedBy("SUBJECT_MISMATCH"));

    // A grant from before an erase is nothing to the user re-created under the same id.
    const thirdGrant = await grantOf(third.sessionToken);
    await a.connect.deleteUser({ userId });
    const reborn = await signedInUser(a, userId);
    expect(await verdicts(reborn.sessionToken, thirdGrant)).toEqual(refusedBy("SUBJECT_MISMATCH"));
    expect(await verdicts(third.sessionToken, thirdGrant)).toEqual(refusedBy("SESSION_REVOKED"));
  });
});

/** Tenants file reloads (TenantsFileReloader) against sessions and ceremonies already in flight. */
describe("tenants file reloads against work in flight", () => {
  const dir = mkdtempSync(join(tmpdir(), "dynauthn-lifetime-"));
  const path = join(dir, "dynauthn.yaml");
  const OLD_ORIGIN = "https://old.localhost";
  let version = 0;
  /**
   * Reloads a file of the test tenant (the default) with `settings` (YAML flow-map entries) and
   * `origins`, and of tenant "leaving" unless `leaving` is false; a new mtime each time.
   */
  const reloadWith = async (settings: string, { origins = [ORIGIN, OLD_ORIGIN], leaving = true } = {}) => {
    const t = TEST_TENANT;
    const entry = (id: string) => `  - {id: ${id}, rpId: ${t.rpId}, rpName: ${t.rpName}, origins: [${origins.join(", ")}], ${settings}}\n`;
    writeFileSync(path, `defaultTenant: ${t.id}\ntenants:\n${entry(t.id)}${leaving ? entry("leaving") : ""}`);
    const mtime = new Date(Date.UTC(2026, 0, 1) + ++version * 1000);
    utimesSync(path, mtime, mtime);
    expect(await reloader.reload()).toBe(true);
  };
  let svc: TestService;
  let reloader: TenantsFileReloader;

  beforeAll(async () => {
    svc = await startTestService(undefined, { tenant: { ...TEST_TENANT, sessionTtlSeconds: 3600 } });
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
  /** Signs in under a 3600 s session lifetime, then reloads with 60 s and lets 61 s pass (issue 13, break 4). */
  const signInThenShorten = async (userId: string) => {
    await reloadWith("sessionTtlSeconds: 3600");
    const user = await signedInUser(svc, userId);
    await reloadWith("sessionTtlSeconds: 60");
    expect(svc.app.tenants.defaultTenant.sessionTtlSeconds).toBe(60);
    svc.clock.advance(61_000);
    return user;
  };

  it("a shortened session lifetime: ListSessions lists an older session and RevokeAllSessions revokes it, so VerifyOperation denies its token", async () => {
    const user = await signInThenShorten("shortened");
    const sessionId = decodeJwt(user.sessionToken).jti;
    expect((await svc.connect.listSessions({ userId: "shortened" })).sessions.map((s) => s.sessionId)).toEqual([sessionId]);
    expect(await svc.connect.revokeAllSessions({ userId: "shortened" })).toMatchObject({ revokedSessions: 1 });
    expect(verdict(await svc.connect.verifyOperation({ sessionToken: user.sessionToken, operation: transfer(1) }))).toEqual([
      "DENY",
      "SESSION_REVOKED",
    ]);
  });

  it("a shortened session lifetime: RevokeCredential and DeleteUser revoke older sessions", async () => {
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

  it("a removed tenant: its ceremonies, tokens and grants in flight are TENANT_UNKNOWN; its data waits for its return", async () => {
    await reloadWith("sessionTtlSeconds: 3600");
    const user = await signedInUser(svc, "tenant-leaver", undefined, "leaving");
    const granted = await svc.connect.verifyOperation({ tenant: "leaving", sessionToken: user.sessionToken, operation: transfer(1) });
    const grant = granted.details.case === "allowed" ? granted.details.value.stepUpGrant : "";
    const registration = await svc.connect.beginRegistration({ tenant: "leaving", userId: "tenant-leaver", userName: "l" });
    const signIn = await assertion(svc, user.authenticator, "tenant-leaver", undefined, "leaving");

    await reloadWith("sessionTtlSeconds: 3600", { leaving: false });
    const credentialJson = JSON.stringify(new SoftAuthenticator().create(registration.optionsJson, ORIGIN));
    await expectRpcError(svc.connect.finishRegistration({ tenant: "leaving", credentialJson }), Code.InvalidArgument, "TENANT_UNKNOWN");
    await expectRpcError(svc.connect.finishAuthentication({ tenant: "leaving", credentialJson: signIn }), Code.InvalidArgument, "TENANT_UNKNOWN");
    for (const evidence of [{ case: undefined }, { case: "stepUpGrant" as const, value: grant }]) {
      await expectRpcError(
        svc.connect.verifyOperation({ tenant: "leaving", sessionToken: user.sessionToken, operation: transfer(1), evidence }),
        Code.InvalidArgument,
        "TENANT_UNKNOWN",
      );
    }
    // Nothing was used up or erased: back in the file, the tenant's session and sign-in still work.
    await reloadWith("sessionTtlSeconds: 3600");
    expect((await svc.connect.listSessions({ tenant: "leaving", userId: "tenant-leaver" })).sessions).toHaveLength(1);
    await expect(svc.connect.finishAuthentication({ tenant: "leaving", credentialJson: signIn })).resolves.toMatchObject({ userId: "tenant-leaver" });
  });

  it("a removed origin: a ceremony begun from it fails ORIGIN_MISMATCH at finish", async () => {
    await reloadWith("sessionTtlSeconds: 3600");
    const authenticator = new SoftAuthenticator();
    await register(svc, authenticator, "origin-user");
    const registration = await svc.connect.beginRegistration({ userId: "origin-user", userName: "o" });
    const signIn = await svc.connect.beginAuthentication({ userId: "origin-user" });
    await reloadWith("sessionTtlSeconds: 3600", { origins: [ORIGIN] });
    const fromOldOrigin = {
      registration: JSON.stringify(new SoftAuthenticator().create(registration.optionsJson, OLD_ORIGIN)),
      signIn: JSON.stringify(authenticator.get(signIn.optionsJson, OLD_ORIGIN)),
    };
    await expectRpcError(svc.connect.finishRegistration({ credentialJson: fromOldOrigin.registration }), Code.Unauthenticated, "ORIGIN_MISMATCH");
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: fromOldOrigin.signIn }), Code.Unauthenticated, "ORIGIN_MISMATCH");
  });

  it("a raised user verification floor applies to a registration begun under the old one", async () => {
    await reloadWith("userVerification: preferred");
    const begun = await svc.connect.beginRegistration({ userId: "uv-raised", userName: "u" });
    await reloadWith("userVerification: required");
    const credentialJson = JSON.stringify(new SoftAuthenticator({ userVerification: false }).create(begun.optionsJson, ORIGIN));
    await expectRpcError(svc.connect.finishRegistration({ credentialJson }), Code.Unauthenticated, "USER_VERIFICATION_REQUIRED");
  });

  it("a removed or loosened ceremony profile: what it demanded at begin (user verification, algorithms) still holds at finish", async () => {
    const strict = "profiles: {strict: {userVerification: required, algorithms: [-7]}}";
    await reloadWith(strict);
    const uv = await svc.connect.beginRegistration({ userId: "profile-reload", userName: "p", profile: "strict" });
    const alg = await svc.connect.beginRegistration({ userId: "profile-reload", userName: "p", profile: "strict" });
    const uvLater = await svc.connect.beginRegistration({ userId: "profile-reload", userName: "p", profile: "strict" });
    await reloadWith("profiles: {strict: {userVerification: discouraged}}");
    const noUv = (optionsJson: string) => JSON.stringify(new SoftAuthenticator({ userVerification: false }).create(optionsJson, ORIGIN));
    await expectRpcError(svc.connect.finishRegistration({ credentialJson: noUv(uv.optionsJson) }), Code.Unauthenticated, "USER_VERIFICATION_REQUIRED");
    await reloadWith("sessionTtlSeconds: 3600");
    await expectRpcError(svc.connect.beginRegistration({ userId: "profile-reload", userName: "p", profile: "strict" }), Code.InvalidArgument, "FIELD_INVALID");
    await expectRpcError(svc.connect.finishRegistration({ credentialJson: noUv(uvLater.optionsJson) }), Code.Unauthenticated, "USER_VERIFICATION_REQUIRED");
    // A browser offering EdDSA anyway (the tenant accepts it): the sealed [-7] still decides.
    const offered = JSON.parse(alg.optionsJson);
    offered.pubKeyCredParams.push({ alg: -8, type: "public-key" });
    const eddsa = JSON.stringify(new SoftAuthenticator({ alg: -8 }).create(offered, ORIGIN));
    await expectRpcError(svc.connect.finishRegistration({ credentialJson: eddsa }), Code.Unauthenticated, "ALGORITHM_UNSUPPORTED");
  });

  it("a shortened challenge lifetime: a ceremony begun before keeps the expiry it was issued with", async () => {
    await reloadWith("challengeTtlSeconds: 300");
    const begun = await svc.connect.beginRegistration({ userId: "challenge-ttl", userName: "c" });
    const late = await svc.connect.beginRegistration({ userId: "challenge-ttl", userName: "c" });
    await reloadWith("challengeTtlSeconds: 10");
    svc.clock.advance(20_000);
    const answer = (optionsJson: string) => JSON.stringify(new SoftAuthenticator().create(optionsJson, ORIGIN));
    await expect(svc.connect.finishRegistration({ credentialJson: answer(begun.optionsJson) })).resolves.toMatchObject({
      credential: { userId: "challenge-ttl" },
    });
    svc.clock.advance(300_000);
    await expectRpcError(svc.connect.finishRegistration({ credentialJson: answer(late.optionsJson) }), Code.Unauthenticated, "CHALLENGE_EXPIRED");
  });
});
