import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_SERVICE_NAME } from "../../src/app.js";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { DEFAULT_BEGIN_LIMITS } from "../../src/limits/begin-limit-settings.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { createDynamoClient } from "../../src/store/client.js";
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from "../../src/store/embedded-dynamodb.js";
import { createTables, tableNames } from "../../src/store/tables.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";
import { assertion, register } from "../support/ceremonies.js";
import { closeAll, startTestService, TestClock, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

const WORKERS = 4;
/** A failing call must come back well within any sane client deadline (SDK: 3 attempts, 1 s connect timeout). */
const MAX_CALL_MS = 10_000;

interface CallRecord {
  readonly rpc: "begin" | "finish";
  readonly userId: string;
  readonly ms: number;
  readonly error?: string; // "Code:REASON"
  readonly sessionId?: string;
}

/** Polls `condition` every 50 ms until it holds or `timeoutMs` passes. */
async function eventually(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/**
 * A dedicated DynamoDB Local (tables on disk, so they survive its restart) stopped under sign-in
 * load and restarted on the same port, with the service left running throughout.
 */
describe("store outage and recovery", () => {
  let dataDir: string;
  let db: EmbeddedDynamoDb;
  let svc: TestService;
  const users = Array.from({ length: WORKERS }, (_, i) => ({ userId: `outage-${i}`, authenticator: new SoftAuthenticator() }));

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "dynauthn-outage-"));
    db = await startEmbeddedDynamoDb({ dataDir });
    const dynamo = createDynamoClient({ endpoint: db.endpoint, region: "us-east-1", localCredentials: true });
    const tablePrefix = "outage-";
    await createTables(dynamo, tableNames(tablePrefix));
    // Each worker signs one user in as fast as it can and retries every 20 ms while the store is
    // down: the per-user Begin limits would (rightly) refuse that, so they are off here.
    svc = await startTestService(
      { dynamo, tablePrefix, signingKey: await generateSigningKey(), clock: new TestClock() },
      { beginLimits: { ...DEFAULT_BEGIN_LIMITS, perUser: 0, outstandingPerUser: 0 } },
    );
    await Promise.all(users.map((u) => register(svc, u.authenticator, u.userId)));
  });
  afterAll(async () => {
    await closeAll(svc);
    await db?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("fails fast with UNAVAILABLE, reports NOT_SERVING, loses no audited sign-in and recovers by itself", async () => {
    const calls: CallRecord[] = [];
    const timed = async <T>(rpc: CallRecord["rpc"], userId: string, call: () => Promise<T>, sessionOf: (r: T) => string | undefined) => {
      const started = performance.now();
      try {
        const result = await call();
        calls.push({ rpc, userId, ms: performance.now() - started, sessionId: sessionOf(result) });
        return result;
      } catch (err) {
        const e = ConnectError.from(err);
        calls.push({ rpc, userId, ms: performance.now() - started, error: `${Code[e.code]}:${e.findDetails(ErrorInfoSchema)[0]?.reason}` });
        return undefined;
      }
    };
    let loading = true;
    const load = users.map(async ({ userId, authenticator }) => {
      while (loading) {
        const json = await timed("begin", userId, () => assertion(svc, authenticator, userId), () => undefined);
        // A client backing off a little, as any would, so the loop does not spin on a down store.
        if (json === undefined) {
          await delay(20);
          continue;
        }
        await timed(
          "finish",
          userId,
          () => svc.connect.finishAuthentication({ credentialJson: json }),
          (r) => decodeJwt(r.sessionToken).jti,
        );
      }
    });
    const succeeded = () => calls.filter((c) => c.rpc === "finish" && c.error === undefined).length;
    const failed = () => calls.filter((c) => c.error !== undefined).length;
    const authService = () => svc.app.health.status(AUTH_SERVICE_NAME);

    try {
      await eventually("sign-ins before the outage", () => succeeded() >= 8, 20_000);
      const port = Number(new URL(db.endpoint).port);
      await db.stop();
      await eventually("failures during the outage", () => failed() >= 12, 20_000);
      await eventually("AuthService NOT_SERVING", () => authService() === Status.NOT_SERVING, 10_000);
      // Over the wire too; and liveness ("") must not restart pods for an outage a restart cannot fix.
      const health = createClient(Health, createConnectTransport({ baseUrl: svc.baseUrl, httpVersion: "1.1" }));
      expect((await health.check({ service: AUTH_SERVICE_NAME })).status).toBe(Status.NOT_SERVING);
      expect((await health.check({ service: "" })).status).toBe(Status.SERVING);

      db = await startEmbeddedDynamoDb({ dataDir, port });
      const before = succeeded();
      await eventually("sign-ins after recovery", () => succeeded() >= before + 8, 30_000);
      expect(authService()).toBe(Status.SERVING);
    } finally {
      loading = false;
      await Promise.all(load);
    }

    const failures = calls.filter((c) => c.error !== undefined);
    expect(new Set(failures.map((c) => c.error))).toEqual(new Set(["Unavailable:STORE_UNAVAILABLE"]));
    const slowest = Math.max(...calls.map((c) => c.ms));
    expect(slowest).toBeLessThan(MAX_CALL_MS);
    console.info(
      `outage: ${calls.length} calls, ${succeeded()} sign-ins, ${failures.length} UNAVAILABLE; ` +
        `slowest failure ${Math.round(Math.max(...failures.map((c) => c.ms)))} ms, slowest call ${Math.round(slowest)} ms`,
    );

    // Every sign-in the service reported has its audit event and its session: nothing returned success early.
    for (const { userId } of users) {
      const reported = calls.filter((c) => c.userId === userId && c.sessionId !== undefined).map((c) => c.sessionId);
      const { events } = await svc.connect.listAuditEvents({ userId, pageSize: 500 });
      const audited = events.filter((e) => e.type === AuditEventType.AUTHENTICATION && e.outcome === AuditOutcome.SUCCESS);
      const { sessions } = await svc.connect.listSessions({ userId });
      expect(audited.map((e) => e.sessionId)).toEqual(expect.arrayContaining(reported));
      expect(sessions.map((s) => s.sessionId)).toEqual(expect.arrayContaining(reported));
    }
  }, 90_000);
});
