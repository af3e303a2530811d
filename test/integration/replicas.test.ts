import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, startReplicas, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/** Two service instances on one DynamoDB: correctness must not depend on either one's cache. */
describe("two replicas on one store", () => {
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    [a, b] = await startReplicas();
  });
  afterAll(() => closeAll(a, b));

  it("a ceremony begun on A finishes on B, and a challenge consumed on B is gone on A", async () => {
    const authenticator = new SoftAuthenticator();
    await register(a, authenticator, "roamer");
    const json = await assertion(a, authenticator, "roamer");
    await expect(b.connect.finishAuthentication({ credentialJson: json })).resolves.toMatchObject({ userId: "roamer" });
    await expectRpcError(a.connect.finishAuthentication({ credentialJson: json }), Code.Unauthenticated, "CHALLENGE_INVALID");
  });

  it("the counter is shared: with both caches warm, a clone's stale counter is refused on either replica", async () => {
    const authenticator = new SoftAuthenticator();
    const credentialId = await register(a, authenticator, "shared-counter");
    const clone = new SoftAuthenticator();
    authenticator.cloneInto(clone, credentialId);
    await a.connect.finishAuthentication({ credentialJson: await assertion(a, authenticator, "shared-counter") });
    await b.connect.finishAuthentication({ credentialJson: await assertion(b, authenticator, "shared-counter") });
    expect(a.app.caches.credentials.size).toBeGreaterThan(0);
    expect(b.app.caches.credentials.size).toBeGreaterThan(0);
    await expectRpcError(
      b.connect.finishAuthentication({ credentialJson: await assertion(b, clone, "shared-counter") }),
      Code.Unauthenticated,
      "COUNTER_REGRESSION",
    );
  });
});
