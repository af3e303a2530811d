import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

describe("a flood of refusals from one source", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(undefined, { failureAudit: { perSource: 3, total: 100, windowSeconds: 60 } });
  });
  afterAll(() => closeAll(svc));

  const failures = async (userId: string) =>
    (await svc.connect.listAuditEvents({ userId, pageSize: 500 })).events.filter((e) => e.outcome === AuditOutcome.FAILURE);

  it("is refused every time but writes only the source's budget of events; the next one says how many were left out", async () => {
    const authenticator = new SoftAuthenticator();
    await register(svc, authenticator, "flooded");
    const phish = async (ip: string) => {
      const credentialJson = await assertion(svc, authenticator, "flooded", { origin: "https://evil.example" });
      await expectRpcError(svc.connect.finishAuthentication({ credentialJson, client: { ip } }), Code.Unauthenticated, "ORIGIN_MISMATCH");
    };
    for (let i = 0; i < 8; i++) await phish("203.0.113.9");
    expect((await failures("flooded")).map((e) => e.clientIp)).toEqual(Array(3).fill("203.0.113.9"));

    await phish("198.51.100.7"); // another source has its own budget
    const signIn = await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "flooded") });
    expect(signIn.userId).toBe("flooded"); // and the user is not locked out by the flood

    svc.clock.advance(60_000);
    await phish("203.0.113.9");
    const [newest, second] = await failures("flooded");
    expect(newest).toMatchObject({ type: AuditEventType.AUTHENTICATION, reason: "ORIGIN_MISMATCH", clientIp: "203.0.113.9", details: { suppressed_before: "5" } });
    expect(second).toMatchObject({ clientIp: "198.51.100.7" });
    expect(second?.details.suppressed_before).toBeUndefined();
    expect(await failures("flooded")).toHaveLength(5);
  });
});

describe("security alerts under a flood of other refusals", () => {
  let svc: TestService;
  beforeAll(async () => {
    // A total budget the flood below exhausts; the tenant refuses flagged and BE-flipped credentials.
    const tenant = { ...TEST_TENANT, assertion: { cloneResponse: "refuse", backupEligibilityMismatch: "refuse" } } as const;
    svc = await startTestService(undefined, { tenant, failureAudit: { perSource: 60, total: 20, windowSeconds: 60 } });
  });
  afterAll(() => closeAll(svc));

  const trail = async (userId: string) =>
    (await svc.connect.listAuditEvents({ userId, pageSize: 500 })).events.filter((e) => e.outcome === AuditOutcome.FAILURE).map((e) => [AuditEventType[e.type], e.reason]);

  it("are written although the failure budget is spent; ordinary refusals are still sampled away", async () => {
    const authenticator = new SoftAuthenticator();
    await register(svc, authenticator, "alerted");
    await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "alerted") });
    await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "alerted") });
    // Garbage from as many claimed client IPs: each its own source, together past the total budget.
    for (let i = 0; i < 25; i++) {
      await expectRpcError(svc.connect.finishAuthentication({ credentialJson: "{}", client: { ip: `198.51.100.${i}` } }), Code.InvalidArgument);
    }
    const phished = await assertion(svc, authenticator, "alerted", { origin: "https://evil.example" });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: phished }), Code.Unauthenticated, "ORIGIN_MISMATCH");

    const cloned = await assertion(svc, authenticator, "alerted", { counter: 1 });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: cloned }), Code.Unauthenticated, "COUNTER_REGRESSION");
    // The genuine authenticator, refused now that the credential is flagged (cloneResponse: refuse).
    const genuine = await assertion(svc, authenticator, "alerted");
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: genuine }), Code.Unauthenticated, "CREDENTIAL_CLONE_SUSPECTED");

    const flipped = new SoftAuthenticator({ backupEligible: false });
    await register(svc, flipped, "alerted");
    const mismatch = await assertion(svc, flipped, "alerted", { backupEligible: true });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: mismatch }), Code.Unauthenticated, "BACKUP_ELIGIBILITY_MISMATCH");

    expect(await trail("alerted")).toEqual([
      ["AUTHENTICATION", "BACKUP_ELIGIBILITY_MISMATCH"],
      ["AUTHENTICATION", "CREDENTIAL_CLONE_SUSPECTED"],
      ["CLONE_SUSPECTED", "COUNTER_REGRESSION"],
    ]);
  });
});
