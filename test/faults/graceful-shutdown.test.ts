import { connect as tcpConnect } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_SERVICE_NAME } from "../../src/app.js";
import { AuthService } from "../../src/gen/authn/v1/auth_service_pb.js";
import { HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { assertion, register } from "../support/ceremonies.js";
import { closeAll, startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startFaultyService, StoreFaults } from "../support/store-faults.js";

const IN_FLIGHT = 16;
const STORE_DELAY_MS = 200;
const GRACE_MS = 5_000;

/** Whether a fresh TCP connection to `port` is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/** drain() + close(grace) with sign-ins in flight on HTTP/1.1 and HTTP/2 connections (SIGTERM's path in main.ts). */
describe("graceful shutdown under load", () => {
  const faults = new StoreFaults();
  let svc: TestService;
  let after: TestService | undefined;

  beforeAll(async () => {
    svc = await startFaultyService(faults);
  });
  afterAll(() => closeAll(svc, after));

  it(`${IN_FLIGHT} in-flight sign-ins all complete, new connections are refused, close ends within the grace period`, async () => {
    const users = Array.from({ length: IN_FLIGHT }, (_, i) => ({ userId: `leaving-${i}`, authenticator: new SoftAuthenticator() }));
    await Promise.all(users.map((u) => register(svc, u.authenticator, u.userId)));
    const assertions = await Promise.all(users.map((u) => assertion(svc, u.authenticator, u.userId)));
    const h2 = createClient(AuthService, createConnectTransport({ baseUrl: svc.baseUrl, httpVersion: "2" }));

    faults.delayMs = STORE_DELAY_MS;
    const calls = assertions.map((credentialJson, i) => (i % 2 === 0 ? svc.connect : h2).finishAuthentication({ credentialJson }));
    while (faults.inFlight < IN_FLIGHT) await new Promise((r) => setTimeout(r, 5));

    svc.app.health.drain();
    const started = performance.now();
    const closing = svc.app.server.close(GRACE_MS);
    expect(svc.app.health.status("")).toBe(Status.NOT_SERVING);
    expect(svc.app.health.status(AUTH_SERVICE_NAME)).toBe(Status.NOT_SERVING);
    expect(await accepts(svc.app.server.address.port)).toBe(false);

    const signIns = await Promise.all(calls);
    await closing;
    const closeMs = performance.now() - started;
    expect(closeMs).toBeLessThan(GRACE_MS);
    // Each sign-in waits for several delayed store requests, so close really waited for them.
    expect(closeMs).toBeGreaterThan(STORE_DELAY_MS * 2);
    expect(signIns.map((s) => s.userId)).toEqual(users.map((u) => u.userId));

    // No call lost: a replica on the same tables sees every session.
    faults.delayMs = 0;
    after = await startTestService(svc);
    for (const [i, u] of users.entries()) {
      const { sessions } = await after.connect.listSessions({ userId: u.userId });
      expect(sessions.map((s) => s.credentialId)).toEqual([signIns[i]!.credentialId]);
    }
  });
});
