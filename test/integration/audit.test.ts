import { Code } from "@connectrpc/connect";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { AuditEventType, AuditOutcome, type AuditEvent } from "../../src/gen/authn/v1/audit_pb.js";
import { createStore } from "../../src/store/index.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, ORIGIN, startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/** A DynamoDB client whose writes to the audit table fail, to cut a finish between its parts. */
function clientFailingAuditWrites(): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint: inject("dynamoEndpoint"),
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { TableName?: string; TransactItems?: { Put?: { TableName?: string } }[] };
      const tables = [input.TableName, ...(input.TransactItems ?? []).map((t) => t.Put?.TableName)];
      if (tables.some((t) => t?.endsWith("audit"))) {
        throw Object.assign(new Error("injected audit outage"), { name: "InternalServerError", $fault: "server" });
      }
      return next(args);
    },
    { step: "initialize", name: "failAuditWrites" },
  );
  return client;
}

describe("audit trail and sessions", () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => closeAll(svc));

  const eventsOf = async (by: { userId?: string; credentialId?: string }) =>
    (await svc.connect.listAuditEvents({ ...by, pageSize: 500 })).events;
  const summary = (events: AuditEvent[]) =>
    events.map((e) => `${AuditEventType[e.type]}:${AuditOutcome[e.outcome]}${e.reason ? `:${e.reason}` : ""}`);

  it("records a registration and a sign-in with begin context, client, session and no secrets", async () => {
    const authenticator = new SoftAuthenticator();
    const begin = await svc.connect.beginRegistration({
      userId: "audited",
      userName: "audited",
      client: { ip: "198.51.100.1", userAgent: "begin-agent" },
    });
    const created = authenticator.create(begin.optionsJson, ORIGIN);
    await svc.connect.finishRegistration({
      credentialJson: JSON.stringify(created),
      client: { ip: "198.51.100.2", userAgent: "finish-agent" },
    });
    const signIn = await svc.connect.finishAuthentication({
      credentialJson: await assertion(svc, authenticator, "audited"),
      client: { ip: "198.51.100.3", userAgent: "sign-in-agent" },
    });

    const events = await eventsOf({ userId: "audited" });
    expect(summary(events)).toEqual(["AUTHENTICATION:SUCCESS", "REGISTRATION:SUCCESS"]);
    const [login, registration] = events as [AuditEvent, AuditEvent];
    expect(registration).toMatchObject({
      tenant: "default",
      userId: "audited",
      credentialId: created.id,
      aaguid: "00000000-0000-0000-0000-000000000000",
      clientIp: "198.51.100.2",
      clientUserAgent: "finish-agent",
      details: { begin_client_ip: "198.51.100.1", begin_client_user_agent: "begin-agent", attestation_format: "none" },
    });
    expect(registration.ceremonyBeganAt).toBeDefined();
    expect(login).toMatchObject({ clientIp: "198.51.100.3", sessionId: decodeJwt(signIn.sessionToken).jti });
    expect(JSON.stringify(events, (_, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain(signIn.sessionToken);
  });

  it("records every refusal with its reason, findable by credential; a counter regression also as clone suspected", async () => {
    const authenticator = new SoftAuthenticator();
    const id = await register(svc, authenticator, "attacked");
    const clone = new SoftAuthenticator();
    authenticator.cloneInto(clone, id);

    const phished = await assertion(svc, authenticator, "attacked", { origin: "https://evil.example" });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: phished }), Code.Unauthenticated, "ORIGIN_MISMATCH");
    const used = await assertion(svc, authenticator, "attacked");
    await svc.connect.finishAuthentication({ credentialJson: used });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: used }), Code.Unauthenticated, "CHALLENGE_INVALID");
    await expectRpcError(
      svc.connect.finishAuthentication({ credentialJson: await assertion(svc, clone, "attacked") }),
      Code.Unauthenticated,
      "COUNTER_REGRESSION",
    );
    const flagged = (await svc.connect.listCredentials({ userId: "attacked" })).credentials[0];
    expect(flagged?.cloneSuspectedAt).toBeDefined();
    const uvBegin = await svc.connect.beginAuthentication({ userId: "attacked", userVerification: 3 });
    const noUv = JSON.stringify(authenticator.get(uvBegin.optionsJson, ORIGIN, { userVerified: false }));
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: noUv }), Code.Unauthenticated, "USER_VERIFICATION_REQUIRED");

    const trail = summary(await eventsOf({ credentialId: id }));
    // The clone event and its refusal are written in the same millisecond: their order may tie.
    expect(trail.slice(1, 3).sort()).toEqual(["AUTHENTICATION:FAILURE:COUNTER_REGRESSION", "CLONE_SUSPECTED:FAILURE:COUNTER_REGRESSION"]);
    expect([trail[0], ...trail.slice(3)]).toEqual([
      "AUTHENTICATION:FAILURE:USER_VERIFICATION_REQUIRED",
      "AUTHENTICATION:FAILURE:CHALLENGE_INVALID",
      "AUTHENTICATION:SUCCESS",
      "AUTHENTICATION:FAILURE:ORIGIN_MISMATCH",
      "REGISTRATION:SUCCESS",
    ]);
  });

  it("returns no token and leaves no credential when the audit write fails (no success without its record)", async () => {
    const faulty = await startTestService({ ...svc, dynamo: clientFailingAuditWrites() });
    try {
      const authenticator = new SoftAuthenticator();
      const begin = await faulty.connect.beginRegistration({ userId: "unaudited", userName: "u" });
      const created = authenticator.create(begin.optionsJson, ORIGIN);
      await expectRpcError(
        faulty.connect.finishRegistration({ credentialJson: JSON.stringify(created) }),
        Code.Unavailable,
        "STORE_UNAVAILABLE",
      );
      expect((await svc.connect.listCredentials({ userId: "unaudited" })).credentials).toEqual([]);

      await register(svc, authenticator, "unaudited");
      await expectRpcError(
        faulty.connect.finishAuthentication({ credentialJson: await assertion(faulty, authenticator, "unaudited") }),
        Code.Unavailable,
        "STORE_UNAVAILABLE",
      );
      expect((await svc.connect.listSessions({ userId: "unaudited" })).sessions).toEqual([]);
    } finally {
      await faulty.close();
    }
  });

  it("pages newest first with tokens bound to their query", async () => {
    const authenticator = new SoftAuthenticator();
    await register(svc, authenticator, "pager");
    for (let i = 0; i < 6; i++) {
      await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "pager") });
    }
    const all = await eventsOf({ userId: "pager" });
    expect(all).toHaveLength(7);
    const seen: AuditEvent[] = [];
    let pageToken = "";
    do {
      const page = await svc.connect.listAuditEvents({ userId: "pager", pageSize: 3, pageToken });
      expect(page.events.length).toBeLessThanOrEqual(3);
      seen.push(...page.events);
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
    const times = seen.map((e) => Number(e.time!.seconds) * 1e9 + e.time!.nanos);
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const first = await svc.connect.listAuditEvents({ userId: "pager", pageSize: 3 });
    const tampered = first.nextPageToken.slice(0, -2) + (first.nextPageToken.endsWith("AA") ? "BB" : "AA");
    await expectRpcError(svc.connect.listAuditEvents({ userId: "pager", pageToken: tampered }), Code.InvalidArgument, "FIELD_INVALID");
    await expectRpcError(
      svc.connect.listAuditEvents({ userId: "someone-else", pageToken: first.nextPageToken }),
      Code.InvalidArgument,
      "FIELD_INVALID",
    );
  });

  it("lists and revokes sessions; revoking a credential revokes the sessions it created", async () => {
    const phone = new SoftAuthenticator();
    const laptop = new SoftAuthenticator();
    const phoneId = await register(svc, phone, "sessions");
    await register(svc, laptop, "sessions");
    const s1 = await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, phone, "sessions") });
    await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, laptop, "sessions", { credentialId: laptop.credentialIds()[0] }) });
    await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, laptop, "sessions", { credentialId: laptop.credentialIds()[0] }) });
    const listed = (await svc.connect.listSessions({ userId: "sessions" })).sessions;
    expect(listed).toHaveLength(3);

    const s1Id = decodeJwt(s1.sessionToken).jti!;
    const sessions = svc.app.sessions;
    expect(await sessions.isRevoked("default", s1Id)).toBe(false);
    await svc.connect.revokeCredential({ userId: "sessions", credentialId: phoneId, reason: "stolen" });
    expect(await sessions.isRevoked("default", s1Id)).toBe(true);
    const after = (await svc.connect.listSessions({ userId: "sessions" })).sessions;
    expect(after.filter((s) => s.revokedAt).map((s) => s.sessionId)).toEqual([s1Id]);

    expect((await svc.connect.revokeAllSessions({ userId: "sessions" })).revokedSessions).toBe(2);
    expect((await svc.connect.listSessions({ userId: "sessions" })).sessions.every((s) => s.revokedAt)).toBe(true);
    await expectRpcError(svc.connect.revokeSession({ sessionId: "no-such-session" }), Code.NotFound, "SESSION_NOT_FOUND");
  });

  it("erasing a user leaves no credential, keeps the trail and records the erase", async () => {
    const authenticator = new SoftAuthenticator();
    const id = await register(svc, authenticator, "forget-me");
    await svc.connect.deleteUser({ userId: "forget-me" });
    const store = createStore(svc.dynamo, svc.tablePrefix);
    expect(await store.credentials.get("default", id)).toBeUndefined();
    expect(summary(await eventsOf({ userId: "forget-me" }))).toEqual(["USER_ERASED:SUCCESS", "REGISTRATION:SUCCESS"]);
  });
});
