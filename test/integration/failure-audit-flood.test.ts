import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, startTestService, type TestService } from "../support/service.js";
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
