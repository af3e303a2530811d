import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType } from "../../src/gen/authn/v1/audit_pb.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startFaultyService, StoreFaults } from "../support/store-faults.js";

/**
 * A write the store applied whose response never arrived (request timeout, reset connection): the
 * SDK sends it again, and a conditional write must not then refuse its own first attempt.
 */
describe("a lost store response during FinishAuthentication", () => {
  const faults = new StoreFaults();
  let svc: TestService;

  beforeAll(async () => {
    svc = await startFaultyService(faults);
  });
  afterAll(() => closeAll(svc));

  const signInFacts = async (userId: string) => ({
    clones: (await svc.connect.listCredentials({ userId })).credentials.filter((c) => c.cloneSuspectedAt).length,
    sessions: (await svc.connect.listSessions({ userId })).sessions.length,
    cloneEvents: (await svc.connect.listAuditEvents({ userId, pageSize: 100 })).events.filter(
      (e) => e.type === AuditEventType.CLONE_SUSPECTED,
    ).length,
  });

  it("on the counter update: the retry is recognised, the sign-in succeeds and no clone is suspected", async () => {
    const authenticator = new SoftAuthenticator(); // counts up, so the counter condition is strict
    await register(svc, authenticator, "lost-counter");
    const credentialJson = await assertion(svc, authenticator, "lost-counter");
    faults.attempts = 0;
    faults.loseNextResponseOf = "UpdateItemCommand";
    await expect(svc.connect.finishAuthentication({ credentialJson })).resolves.toMatchObject({ userId: "lost-counter" });
    expect(faults.loseNextResponseOf, "the fault fired").toBeUndefined();
    expect(await signInFacts("lost-counter")).toEqual({ clones: 0, sessions: 1, cloneEvents: 0 });
  });

  it("on the consumed-marker put: the retry carries the same attempt id and succeeds; a replay afterwards is refused", async () => {
    const authenticator = new SoftAuthenticator();
    await register(svc, authenticator, "lost-consume");
    const credentialJson = await assertion(svc, authenticator, "lost-consume");
    faults.attempts = 0;
    faults.loseNextResponseOf = "PutItemCommand";
    await expect(svc.connect.finishAuthentication({ credentialJson })).resolves.toMatchObject({ userId: "lost-consume" });
    expect(faults.loseNextResponseOf, "the fault fired").toBeUndefined();
    expect(await signInFacts("lost-consume")).toEqual({ clones: 0, sessions: 1, cloneEvents: 0 });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson }), Code.Unauthenticated, "CHALLENGE_INVALID");
    expect(await signInFacts("lost-consume")).toEqual({ clones: 0, sessions: 1, cloneEvents: 0 });
  });

  it("on the registration transaction: its idempotency token makes the retry succeed, recorded once", async () => {
    faults.loseNextResponseOf = "TransactWriteItemsCommand";
    await register(svc, new SoftAuthenticator(), "lost-registration");
    expect(faults.loseNextResponseOf, "the fault fired").toBeUndefined();
    expect((await svc.connect.listCredentials({ userId: "lost-registration" })).credentials).toHaveLength(1);
    const { events } = await svc.connect.listAuditEvents({ userId: "lost-registration", pageSize: 100 });
    expect(events.map((e) => AuditEventType[e.type])).toEqual(["REGISTRATION"]);
  });
});
