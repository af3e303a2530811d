import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditOutcome, type AuditEvent } from "../../src/gen/authn/v1/audit_pb.js";
import {
  ClearCloneWarningRequestSchema,
  type ClearCloneWarningResponse,
  FinishAuthenticationRequestSchema,
  type FinishAuthenticationResponse,
} from "../../src/gen/authn/v1/auth_service_pb.js";
import { Decision, DenyReason, VerifyOperationRequestSchema, type VerifyOperationResponse } from "../../src/gen/authn/v1/step_up_pb.js";
import { createStore, type Store } from "../../src/store/index.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { grpcCall } from "../support/grpc-js-client.js";
import { ORIGIN, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator, type CeremonyOverrides } from "../support/soft-authenticator.js";
import { signedInUser, transfer, type VerifyRequest } from "../support/step-up.js";

/** A tenant that refuses what the default accepts: flag mismatches and suspected clones. */
const STRICT = { ...TEST_TENANT, assertion: { cloneResponse: "refuse", backupEligibilityMismatch: "refuse" } } as const;

interface Transport {
  finish(svc: TestService, credentialJson: string): Promise<FinishAuthenticationResponse>;
  verify(svc: TestService, req: VerifyRequest): Promise<VerifyOperationResponse>;
  clearCloneWarning(svc: TestService, req: { userId: string; credentialId: string; reason: string }): Promise<ClearCloneWarningResponse>;
}

const TRANSPORTS: [string, Transport][] = [
  [
    "Connect (HTTP/1.1, JSON)",
    {
      finish: (svc, credentialJson) => svc.connect.finishAuthentication({ credentialJson }),
      verify: (svc, req) => svc.connect.verifyOperation(req),
      clearCloneWarning: (svc, req) => svc.connect.clearCloneWarning(req),
    },
  ],
  [
    "gRPC (grpc-js, HTTP/2)",
    {
      finish: (svc, credentialJson) => grpcCall(svc, "finishAuthentication", create(FinishAuthenticationRequestSchema, { credentialJson })),
      verify: (svc, req) => grpcCall(svc, "verifyOperation", create(VerifyOperationRequestSchema, req)),
      clearCloneWarning: (svc, req) => grpcCall(svc, "clearCloneWarning", create(ClearCloneWarningRequestSchema, req)),
    },
  ],
];

/** [decision, deny reason] of a VerifyOperation answer. */
const decided = (res: VerifyOperationResponse) => [Decision[res.decision], res.details.case === "denied" ? DenyReason[res.details.value.reason] : undefined];

const optionsOf = (res: VerifyOperationResponse) => (res.details.case === "stepUpRequired" ? res.details.value.optionsJson : "{}");

async function eventsOf(svc: TestService, userId: string, type: AuditEventType): Promise<AuditEvent[]> {
  return (await svc.connect.listAuditEvents({ userId })).events.filter((e) => e.type === type);
}

describe("one assertion core for FinishAuthentication and VerifyOperation", () => {
  let svc: TestService;
  let strict: TestService;
  let store: Store;

  beforeAll(async () => {
    [svc, strict] = await Promise.all([startTestService(), startTestService(undefined, { tenant: STRICT })]);
    store = createStore(svc.dynamo, svc.tablePrefix);
  });
  afterAll(async () => {
    await Promise.all([svc?.close(), strict?.close()]);
  });

  async function storedCounter(service: TestService, credentialId: string): Promise<number | undefined> {
    return (await createStore(service.dynamo, service.tablePrefix).credentials.get("default", credentialId))?.counter;
  }

  describe.each(TRANSPORTS)("over %s", (name, t) => {
    const tag = name.slice(0, 4).toLowerCase();

    it("the record decides backup eligibility: a synced passkey asserting BE=0 signs in as synced, audited, and is no device-bound step-up", async () => {
      const userId = `synced-be0-${tag}`;
      const authenticator = new SoftAuthenticator({ backupEligible: true });
      await register(svc, authenticator, userId);
      const signedIn = await t.finish(svc, await assertion(svc, authenticator, userId, { backupEligible: false }));
      expect(decodeJwt(signedIn.sessionToken)).toMatchObject({ acr: "phr", amr: ["swk", "user", "mfa"] });
      const [event] = await eventsOf(svc, userId, AuditEventType.AUTHENTICATION);
      expect(event).toMatchObject({ outcome: AuditOutcome.SUCCESS, details: { acr: "phr", flag_mismatch: "BACKUP_ELIGIBILITY_MISMATCH" } });

      const cases: [VerifyRequest["requirement"], string][] = [
        [{ requireDeviceBound: true }, "DEVICE_BOUND_REQUIRED"],
        [{ acrValues: ["phrh"] }, "ACR_NOT_SATISFIED"],
      ];
      for (const [requirement, denial] of cases) {
        const req = { sessionToken: signedIn.sessionToken, operation: transfer(1), requirement };
        const needed = await t.verify(svc, req);
        expect(decided(needed)).toEqual(["STEP_UP_REQUIRED", undefined]);
        const deviceBoundClaim = JSON.stringify(authenticator.get(optionsOf(needed), ORIGIN, { backupEligible: false }));
        expect(decided(await t.verify(svc, { ...req, evidence: { case: "credentialJson", value: deviceBoundClaim } }))).toEqual(["DENY", denial]);
      }
      const stepUps = await eventsOf(svc, userId, AuditEventType.STEP_UP);
      expect(stepUps.map((e) => [e.reason, e.details.flag_mismatch])).toEqual([
        ["ACR_NOT_SATISFIED", "BACKUP_ELIGIBILITY_MISMATCH"],
        ["DEVICE_BOUND_REQUIRED", "BACKUP_ELIGIBILITY_MISMATCH"],
      ]);
    });

    it("a device-bound passkey asserting BE=1 is accepted at the lower (synced) assurance and audited", async () => {
      const userId = `bound-be1-${tag}`;
      const authenticator = new SoftAuthenticator();
      await register(svc, authenticator, userId);
      const signedIn = await t.finish(svc, await assertion(svc, authenticator, userId, { backupEligible: true }));
      expect(decodeJwt(signedIn.sessionToken)).toMatchObject({ acr: "phr", amr: ["swk", "user", "mfa"] });
      const [event] = await eventsOf(svc, userId, AuditEventType.AUTHENTICATION);
      expect(event?.details).toMatchObject({ flag_mismatch: "BACKUP_ELIGIBILITY_MISMATCH", asserted_backup_eligible: "true" });
      // Consistent flags are unchanged: hardware-bound stays hwk/phrh.
      const honest = await t.finish(svc, await assertion(svc, authenticator, userId));
      expect(decodeJwt(honest.sessionToken)).toMatchObject({ acr: "phrh", amr: ["hwk", "user", "mfa"] });
    });

    it("a tenant with backupEligibilityMismatch: refuse refuses either flip before the counter moves", async () => {
      for (const [registered, asserted] of [
        [true, false],
        [false, true],
      ]) {
        const userId = `strict-be-${registered}-${tag}`;
        const authenticator = new SoftAuthenticator({ backupEligible: registered });
        const credentialId = await register(strict, authenticator, userId);
        const before = await storedCounter(strict, credentialId);
        const flipped = await assertion(strict, authenticator, userId, { backupEligible: asserted });
        await expectRpcError(t.finish(strict, flipped), Code.Unauthenticated, "BACKUP_ELIGIBILITY_MISMATCH");
        expect(await storedCounter(strict, credentialId)).toBe(before);
        const [event] = await eventsOf(strict, userId, AuditEventType.AUTHENTICATION);
        expect([event?.outcome, event?.reason]).toEqual([AuditOutcome.FAILURE, "BACKUP_ELIGIBILITY_MISMATCH"]);
      }
    });

    it("a counter regression in a step-up flags the credential like a sign-in does (flag: the credential keeps working)", async () => {
      const user = await signedInUser(svc, `clone-step-up-${tag}`);
      const clone = new SoftAuthenticator();
      user.authenticator.cloneInto(clone, user.credentialId);
      await t.finish(svc, await assertion(svc, user.authenticator, user.userId)); // the genuine key moves on to 2
      const req = { sessionToken: user.sessionToken, operation: transfer(3), requirement: { singleUse: true } };
      const cloned = JSON.stringify(clone.get(optionsOf(await t.verify(svc, req)), ORIGIN)); // counter 2 again
      expect(decided(await t.verify(svc, { ...req, evidence: { case: "credentialJson", value: cloned } }))).toEqual(["DENY", "EVIDENCE_INVALID"]);

      const [credential] = (await svc.connect.listCredentials({ userId: user.userId })).credentials;
      expect(credential?.cloneSuspectedAt).toBeDefined();
      const [suspected] = await eventsOf(svc, user.userId, AuditEventType.CLONE_SUSPECTED);
      expect(suspected).toMatchObject({ outcome: AuditOutcome.FAILURE, reason: "COUNTER_REGRESSION", credentialId: user.credentialId });
      const [stepUp] = await eventsOf(svc, user.userId, AuditEventType.STEP_UP);
      expect(stepUp).toMatchObject({ reason: "COUNTER_REGRESSION", details: { deny_reason: "EVIDENCE_INVALID" } });
      // cloneResponse flag (the default): the genuine authenticator keeps signing in and stepping up.
      await expect(t.finish(svc, await assertion(svc, user.authenticator, user.userId))).resolves.toMatchObject({ userId: user.userId });
      const genuine = JSON.stringify(user.authenticator.get(optionsOf(await t.verify(svc, req)), ORIGIN));
      expect(decided(await t.verify(svc, { ...req, evidence: { case: "credentialJson", value: genuine } }))).toEqual(["ALLOW", undefined]);
    });

    it("cloneResponse refuse: a flagged credential neither signs in nor steps up until ClearCloneWarning, which is audited", async () => {
      const user = await signedInUser(strict, `clone-refused-${tag}`);
      const clone = new SoftAuthenticator();
      user.authenticator.cloneInto(clone, user.credentialId);
      await t.finish(strict, await assertion(strict, user.authenticator, user.userId));
      await expectRpcError(t.finish(strict, await assertion(strict, clone, user.userId)), Code.Unauthenticated, "COUNTER_REGRESSION");

      const counter = await storedCounter(strict, user.credentialId);
      const genuine = await assertion(strict, user.authenticator, user.userId);
      await expectRpcError(t.finish(strict, genuine), Code.Unauthenticated, "CREDENTIAL_CLONE_SUSPECTED");
      expect(await storedCounter(strict, user.credentialId)).toBe(counter);
      const req = { sessionToken: user.sessionToken, operation: transfer(4), requirement: { singleUse: true } };
      const stepUp = JSON.stringify(user.authenticator.get(optionsOf(await t.verify(strict, req)), ORIGIN));
      expect(decided(await t.verify(strict, { ...req, evidence: { case: "credentialJson", value: stepUp } }))).toEqual([
        "DENY",
        "CREDENTIAL_CLONE_SUSPECTED",
      ]);

      await expectRpcError(
        t.clearCloneWarning(strict, { userId: "someone-else", credentialId: user.credentialId, reason: "x" }),
        Code.NotFound,
        "CREDENTIAL_NOT_FOUND",
      );
      const cleared = await t.clearCloneWarning(strict, { userId: user.userId, credentialId: user.credentialId, reason: "device checked" });
      expect([cleared.credential?.credentialId, cleared.credential?.cloneSuspectedAt]).toEqual([user.credentialId, undefined]);
      const [event] = await eventsOf(strict, user.userId, AuditEventType.CLONE_WARNING_CLEARED);
      expect(event).toMatchObject({ outcome: AuditOutcome.SUCCESS, credentialId: user.credentialId, details: { reason: "device checked" } });
      expect(event?.details.clone_suspected_at).toMatch(/^\d+$/);

      await expect(t.finish(strict, await assertion(strict, user.authenticator, user.userId))).resolves.toMatchObject({ userId: user.userId });
      // The clone's counter is still behind: it is refused and flags the credential again.
      await expectRpcError(t.finish(strict, await assertion(strict, clone, user.userId)), Code.Unauthenticated, "COUNTER_REGRESSION");
      await expectRpcError(t.finish(strict, await assertion(strict, user.authenticator, user.userId)), Code.Unauthenticated, "CREDENTIAL_CLONE_SUSPECTED");
    });
  });

  it("the clone flag is conditioned on the regression itself: a counter that advances is never flagged", async () => {
    const authenticator = new SoftAuthenticator();
    const credentialId = await register(svc, authenticator, "flag-condition");
    await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "flag-condition") });
    const update = { tenant: "default", credentialId, userId: "flag-condition", backedUp: false, usedAt: svc.clock.read() };
    expect(await store.credentials.flagCloneSuspected({ ...update, newCounter: 2 })).toBe(false);
    expect(await store.credentials.flagCloneSuspected({ ...update, newCounter: 1, userId: "someone-else" })).toBe(false);
    expect((await store.credentials.get("default", credentialId))?.cloneSuspectedAt).toBeUndefined();
    expect(await store.credentials.flagCloneSuspected({ ...update, newCounter: 1 })).toBe(true);
    expect((await store.credentials.get("default", credentialId))?.cloneSuspectedAt).toBe(update.usedAt);
  });

  it("an assertion carrying attested credential data (AT, an AAGUID and a key) is malformed and consumes nothing", async () => {
    const authenticator = new SoftAuthenticator({ aaguid: "ee882879-721c-4913-9775-3dfcce97072a" });
    await register(svc, authenticator, "attested-assertion");
    const begin = await svc.connect.beginAuthentication({ userId: "attested-assertion" });
    const attested: CeremonyOverrides = { attestedCredentialData: true };
    const forged = JSON.stringify(authenticator.get(begin.optionsJson, ORIGIN, attested));
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: forged }), Code.InvalidArgument, "CREDENTIAL_MALFORMED");
    const honest = JSON.stringify(authenticator.get(begin.optionsJson, ORIGIN));
    await expect(svc.connect.finishAuthentication({ credentialJson: honest })).resolves.toMatchObject({ userId: "attested-assertion" });
  });

  it("ClearCloneWarning is a management right: even an anonymous grant of every method cannot reach it", async () => {
    // Built around the schema, which already refuses this grant at start (test/unit/caller-policy.test.ts).
    const open = await startTestService(undefined, {
      callers: { callerIdentity: "mtls", allowAnonymousCallers: true, anonymous: { methods: ["*"], tenants: ["*"] }, rules: [] },
    });
    try {
      await expect(open.connect.beginAuthentication({})).resolves.toBeDefined();
      await expectRpcError(
        open.connect.clearCloneWarning({ userId: "u", credentialId: "c", reason: "" }),
        Code.PermissionDenied,
        "CALLER_NOT_ALLOWED",
      );
    } finally {
      await open.close();
    }
  });

  it("a tenant whose user-verification floor rose after the Begin still demands UV at the finish", async () => {
    const authenticator = new SoftAuthenticator({ userVerification: false });
    await register(svc, authenticator, "uv-floor");
    const begun = await assertion(svc, authenticator, "uv-floor");
    svc.app.tenants.replace({ ...svc.app.tenants.resolve(""), userVerification: "required" }, []);
    try {
      await expectRpcError(svc.connect.finishAuthentication({ credentialJson: begun }), Code.Unauthenticated, "USER_VERIFICATION_REQUIRED");
    } finally {
      svc.app.tenants.replace(TEST_TENANT, []);
    }
  });
});
