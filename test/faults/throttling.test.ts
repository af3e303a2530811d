import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_SERVICE_NAME } from "../../src/app.js";
import { HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { expectRpcError } from "../support/ceremonies.js";
import { closeAll, type TestService } from "../support/service.js";
import { startFaultyService, StoreFaults } from "../support/store-faults.js";

/** DynamoDB throttling, injected into each SDK attempt: the SDK retries, then the caller is told to back off. */
describe("store throttling", () => {
  const faults = new StoreFaults();
  let svc: TestService;

  beforeAll(async () => {
    svc = await startFaultyService(faults);
  });
  afterAll(() => closeAll(svc));

  it.each(["ProvisionedThroughputExceededException", "ThrottlingException"])(
    "%s on every attempt: retried with backoff, then RESOURCE_EXHAUSTED / STORE_THROTTLED",
    async (name) => {
      faults.attempts = 0;
      faults.failWith = name;
      const started = performance.now();
      try {
        await expectRpcError(svc.connect.beginAuthentication({ userId: "throttled" }), Code.ResourceExhausted, "STORE_THROTTLED");
      } finally {
        faults.failWith = undefined;
      }
      // One store request (the user's credential list), attempted maxAttempts = 3 times.
      expect(faults.attempts).toBe(3);
      // Throttling is the store answering: the service stays SERVING.
      expect(svc.app.health.status(AUTH_SERVICE_NAME)).toBe(Status.SERVING);
      expect(performance.now() - started).toBeLessThan(10_000);
    },
  );

  it("a throttled attempt followed by a good one: the retry succeeds and the caller never notices", async () => {
    faults.attempts = 0;
    faults.failWith = "ThrottlingException";
    const call = svc.connect.beginAuthentication({ userId: "throttled-once" });
    // Let the first attempt fail, then lift the throttle before the backoff (≥ tens of ms) ends.
    while (faults.attempts === 0) await new Promise((r) => setTimeout(r, 1));
    faults.failWith = undefined;
    await expect(call).resolves.toMatchObject({ optionsJson: expect.any(String) });
    expect(faults.attempts).toBeGreaterThan(1);
  });
});
