import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { AuthService } from "../../src/gen/authn/v1/auth_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

const HOUR_MS = 3_600_000;
/** 2286-11-20T17:46:40Z: where epoch milliseconds gain a 14th digit. */
const LATEST_MS = 10_000_000_000_000;

describe("ListAuditEvents time bounds and page tokens (issue 13, breaks 8 and 9)", () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService();
    const authenticator = new SoftAuthenticator();
    await register(svc, authenticator, "bounded");
    for (let i = 0; i < 3; i++) {
      await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "bounded") });
    }
  });
  afterAll(() => closeAll(svc));

  const list = (startMs: number | undefined, endMs: number | undefined) =>
    svc.connect.listAuditEvents({
      userId: "bounded",
      startTime: startMs === undefined ? undefined : timestampFromMs(startMs),
      endTime: endMs === undefined ? undefined : timestampFromMs(endMs),
      pageSize: 500,
    });

  it("answers an end_time past 2286-11-20 with INVALID_ARGUMENT, not UNAVAILABLE or an empty page", async () => {
    const farFuture = Date.parse("2300-01-01T00:00:00Z");
    const recent = svc.clock.read() - HOUR_MS;
    for (const start of [recent, 0]) {
      const err = await expectRpcError(list(start, farFuture), Code.InvalidArgument, "FIELD_INVALID");
      expect(err.rawMessage).toMatch(/^end_time: /);
    }
  });

  it("finds every event up to the latest accepted end_time, from the earliest accepted start_time", async () => {
    const everything = (await list(undefined, undefined)).events;
    expect(everything).toHaveLength(4);
    expect((await list(0, LATEST_MS)).events.map((e) => e.eventId)).toEqual(everything.map((e) => e.eventId));
    expect((await list(svc.clock.read() - HOUR_MS, LATEST_MS)).events).toHaveLength(4);
  });

  it("refuses a start_time before 1970 and a Timestamp with out-of-range nanos", async () => {
    const early = await expectRpcError(list(-1, undefined), Code.InvalidArgument, "FIELD_INVALID");
    expect(early.rawMessage).toMatch(/^start_time: /);
    // The JSON form cannot carry such a Timestamp; the binary form can.
    const binary = createClient(AuthService, createConnectTransport({ baseUrl: svc.baseUrl, httpVersion: "1.1", useBinaryFormat: true }));
    const badNanos = create(TimestampSchema, { seconds: 1n, nanos: 1_000_000_000 });
    await expectRpcError(binary.listAuditEvents({ userId: "bounded", startTime: badNanos }), Code.InvalidArgument, "FIELD_INVALID");
    const negativeNanos = create(TimestampSchema, { seconds: 1n, nanos: -1 });
    await expectRpcError(binary.listAuditEvents({ userId: "bounded", endTime: negativeNanos }), Code.InvalidArgument, "FIELD_INVALID");
    const beyondInt53 = create(TimestampSchema, { seconds: 2n ** 62n });
    await expectRpcError(binary.listAuditEvents({ userId: "bounded", endTime: beyondInt53 }), Code.InvalidArgument, "FIELD_INVALID");
  });

  it("a session id naming a time past 2286 finds no session (NOT_FOUND, not a store error)", async () => {
    const user = Buffer.from("bounded", "utf16le").toString("base64url");
    const sessionId = `zzzzzzzzzzz.${user}.${"A".repeat(16)}`;
    await expectRpcError(svc.connect.revokeSession({ sessionId }), Code.NotFound, "SESSION_NOT_FOUND");
  });

  it("refuses a credential's page token once the owner is erased (INVALID_ARGUMENT, not a store outage)", async () => {
    const owner = new SoftAuthenticator();
    const ownedId = await register(svc, owner, "erased-owner");
    await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, owner, "erased-owner") });
    const first = await svc.connect.listAuditEvents({ credentialId: ownedId, pageSize: 1 });
    expect(first.events).toHaveLength(1);
    expect(first.nextPageToken).not.toBe("");

    await svc.connect.deleteUser({ userId: "erased-owner" });
    const err = await expectRpcError(
      svc.connect.listAuditEvents({ credentialId: ownedId, pageSize: 1, pageToken: first.nextPageToken }),
      Code.InvalidArgument,
      "FIELD_INVALID",
    );
    expect(err.rawMessage).toMatch(/^page_token: /);
    // A fresh listing (no token) still answers.
    await svc.connect.listAuditEvents({ credentialId: ownedId });
  });
});
