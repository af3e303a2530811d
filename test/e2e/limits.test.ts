import { create } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Client as GrpcClient, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "../../src/gen/authn/v1/auth_service_pb.js";
import { AuditEventType } from "../../src/gen/authn/v1/audit_pb.js";
import { Authorization, CheckRequestSchema, type CheckResponse } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { Decision } from "../../src/gen/authn/v1/step_up_pb.js";
import { ErrorInfoSchema, RetryInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import type { BeginLimitSettings } from "../../src/limits/begin-limit-settings.js";
import { expectRpcError } from "../support/ceremonies.js";
import { grpcErrorDetails, grpcJsClient, unary } from "../support/grpc-js-client.js";
import { closeAll, ORIGIN, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { signedInUser, transfer } from "../support/step-up.js";

const OFF: BeginLimitSettings = { perCaller: 0, perUser: 0, perIp: 0, windowSeconds: 60, outstandingPerUser: 0 };

/** Asserts a Connect refusal by `limit` and returns its RetryInfo delay in ms. */
async function rateLimited(call: Promise<unknown>, limit: string): Promise<number> {
  const err = await expectRpcError(call, Code.ResourceExhausted, "RATE_LIMITED");
  expect(err.findDetails(ErrorInfoSchema)[0]?.metadata).toEqual({ limit });
  const retry = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
  expect(retry, "a RetryInfo detail").toBeDefined();
  return durationMs(retry!);
}

const beginRegistration = (svc: TestService, userId: string, ip = "") =>
  svc.connect.beginRegistration({ userId, userName: `${userId}@example.com`, client: { ip } });
const beginAuthentication = (svc: TestService, userId: string, ip = "") =>
  svc.connect.beginAuthentication({ userId, client: { ip } });

describe("Begin limits per user and per client IP", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(undefined, { beginLimits: { ...OFF, perUser: 2, perIp: 3 } });
  });
  afterAll(() => closeAll(svc));

  it("Connect: the third BeginRegistration for one user within the window is RESOURCE_EXHAUSTED, RATE_LIMITED, with a retry delay", async () => {
    await beginRegistration(svc, "reg-user");
    await beginAuthentication(svc, "reg-user");
    const delay = await rateLimited(beginRegistration(svc, "reg-user"), "user");
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(60_000);
  });

  it("gRPC (grpc-js): the same refusal in grpc-status-details-bin", async () => {
    const begin = () => unary(svc.grpc, "beginAuthentication", create(AuthService.method.beginAuthentication.input, { userId: "grpc-user" }));
    await begin();
    await begin();
    const err = (await begin().catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(grpcErrorDetails(err, ErrorInfoSchema)[0]).toMatchObject({ reason: "RATE_LIMITED", domain: "dynauthn.dev", metadata: { limit: "user" } });
    const retry = grpcErrorDetails(err, RetryInfoSchema)[0]?.retryDelay;
    expect(durationMs(retry!)).toBeGreaterThan(0);
  });

  it("one user's limit does not touch another user", async () => {
    await beginAuthentication(svc, "noisy");
    await beginAuthentication(svc, "noisy");
    await rateLimited(beginAuthentication(svc, "noisy"), "user");
    const quiet = await beginAuthentication(svc, "quiet");
    expect(JSON.parse(quiet.optionsJson).challenge).toBeTruthy();
  });

  it("per client IP: the fourth Begin from one IP is refused whichever user it names; another IP is not", async () => {
    for (const user of ["ip-1", "ip-2", "ip-3"]) await beginAuthentication(svc, user, "198.51.100.20");
    await rateLimited(beginAuthentication(svc, "ip-4", "198.51.100.20"), "ip");
    await rateLimited(svc.connect.beginAuthentication({ client: { ip: "198.51.100.20" } }), "ip"); // discoverable too
    await beginAuthentication(svc, "ip-4", "198.51.100.21");
  });
});

describe("Begin limit per caller", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(undefined, { beginLimits: { ...OFF, perCaller: 3 } });
  });
  afterAll(() => closeAll(svc));

  it("counts every caller without an identity as one anonymous caller, across users and IPs", async () => {
    await svc.connect.beginAuthentication({});
    await beginAuthentication(svc, "c-1", "192.0.2.1");
    await beginRegistration(svc, "c-2", "192.0.2.2");
    await rateLimited(beginAuthentication(svc, "c-3", "192.0.2.3"), "caller");
  });
});

describe("outstanding challenges per user (within the challenge lifetime)", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(undefined, {
      tenant: { ...TEST_TENANT, challengeTtlSeconds: 30 },
      beginLimits: { ...OFF, windowSeconds: 1, outstandingPerUser: 4 },
    });
  });
  afterAll(() => closeAll(svc));

  it("counts BeginRegistration and BeginAuthentication from one source, and step-up challenges apart; the fifth is refused until the lifetime ends, then admitted", async () => {
    const user = await signedInUser(svc, "step-upper"); // BeginRegistration + BeginAuthentication, no client IP
    const stepUp = () =>
      svc.connect.verifyOperation({ sessionToken: user.sessionToken, operation: transfer(10), requirement: { singleUse: true } });
    for (let i = 0; i < 4; i++) expect((await stepUp()).decision).toBe(Decision.STEP_UP_REQUIRED);
    const delay = await rateLimited(stepUp(), "outstanding");
    expect(delay).toBeGreaterThan(1000); // the lifetime, not the 1 s rate window
    expect(delay).toBeLessThanOrEqual(30_000);
    await beginAuthentication(svc, "step-upper");
    await beginAuthentication(svc, "step-upper");
    await rateLimited(beginAuthentication(svc, "step-upper"), "outstanding");
    await beginAuthentication(svc, "someone-else");
    svc.clock.advance(delay);
    expect((await stepUp()).decision).toBe(Decision.STEP_UP_REQUIRED);
  });

  it("a stranger naming a user from many addresses cannot lock that user out of sign-in or step-up (identity break 2)", async () => {
    const victim = await signedInUser(svc, "victim");
    // 12 Begins for the victim (3 × the budget), each from its own reported client address, as the red team sent 256.
    for (let i = 0; i < 12; i++) await beginAuthentication(svc, "victim", `203.0.113.${i}`);
    // The victim's own sign-in from its address and its step-up are admitted.
    expect((await beginAuthentication(svc, "victim", "192.0.2.7")).optionsJson).toContain("challenge");
    const stepUp = await svc.connect.verifyOperation({ sessionToken: victim.sessionToken, operation: transfer(5), requirement: { singleUse: true } });
    expect(stepUp.decision).toBe(Decision.STEP_UP_REQUIRED);
    // One address is still held to the budget.
    for (let i = 0; i < 4; i++) await beginAuthentication(svc, "victim", "198.51.100.4");
    await rateLimited(beginAuthentication(svc, "victim", "198.51.100.4"), "outstanding");
  });
});

describe("limits set to 0", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(undefined, { beginLimits: OFF });
  });
  afterAll(() => closeAll(svc));

  it("admit every Begin: 60 for one user from one IP and one caller", async () => {
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => beginAuthentication(svc, "unlimited", "192.0.2.9")));
    expect(results.filter((r) => r.status === "rejected").map((r) => ConnectError.from(r.reason).code)).toEqual([]);
  });
});

describe("MAX_REQUEST_BYTES", () => {
  let small: TestService;
  let standard: TestService;
  beforeAll(async () => {
    [small, standard] = await Promise.all([startTestService(undefined, { maxRequestBytes: 80 * 1024 }), startTestService()]);
  });
  afterAll(() => closeAll(small, standard));

  it("a 90 KiB message is refused by the transport when the limit is 80 KiB, and reaches the handler under the default", async () => {
    const credentialJson = "x".repeat(90 * 1024);
    const refused = await small.connect.finishAuthentication({ credentialJson }).catch((e: unknown) => ConnectError.from(e));
    expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
    await expectRpcError(standard.connect.finishAuthentication({ credentialJson }), Code.InvalidArgument, "PAYLOAD_TOO_LARGE");
  });
});

describe("Envoy ext_authz under a Begin limit", () => {
  let svc: TestService;
  let envoy: GrpcClient;
  beforeAll(async () => {
    svc = await startTestService(undefined, { beginLimits: { ...OFF, perUser: 4 } });
    envoy = grpcJsClient(Authorization, svc.address);
  });
  afterAll(async () => {
    envoy?.close();
    await closeAll(svc);
  });

  const check = (token: string, headers: Record<string, string> = {}, sourceAddress = "") =>
    unary<CheckResponse>(
      envoy,
      "check",
      create(CheckRequestSchema, {
        attributes: {
          source: { address: { address: { case: "socketAddress", value: { address: sourceAddress } } } },
          contextExtensions: { operation: "payments.transfer", single_use: "true" },
          request: { http: { method: "POST", path: "/v1/transfers", body: "{}", headers: { authorization: `Bearer ${token}`, ...headers } } },
        },
      }),
    );
  const denial = (res: CheckResponse) => (res.httpResponse.case === "deniedResponse" ? res.httpResponse.value : undefined);

  it("answers 429 with Retry-After (not an RPC error, which Envoy would turn into a 403) once the user's step-up challenges are limited", async () => {
    const user = await signedInUser(svc, "envoy-user"); // 2 Begins, which step-up challenges do not share a budget with
    for (let i = 0; i < 4; i++) expect(denial(await check(user.sessionToken))?.status?.code).toBe(401); // step-up challenges
    const limited = await check(user.sessionToken);
    expect(limited.status?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    const response = denial(limited)!;
    expect(response.status?.code).toBe(429);
    const retryAfter = response.headers.find((h) => h.header?.key === "retry-after")?.header?.value;
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(JSON.parse(response.body)).toEqual({ error: "rate_limited", limit: "user" });
  });

  it("cuts an oversized User-Agent to 1024 bytes and drops a client address too long to be one before they reach the audit trail", async () => {
    const user = await signedInUser(svc, "odd-agent");
    const headers = { "user-agent": "é".repeat(60_000) };
    const address = "1".repeat(200);
    const challenge = JSON.parse(denial(await check(user.sessionToken, headers, address))!.body) as { options: object };
    const evidence = Buffer.from(JSON.stringify(user.authenticator.get(challenge.options, ORIGIN))).toString("base64url");
    expect((await check(user.sessionToken, { ...headers, "x-dynauthn-step-up": evidence }, address)).status?.code).toBe(GrpcStatus.OK);
    const { events } = await svc.connect.listAuditEvents({ userId: "odd-agent", pageSize: 50 });
    const stepUp = events.find((e) => e.type === AuditEventType.STEP_UP);
    expect(stepUp?.clientUserAgent).toBe("é".repeat(512));
    expect(stepUp?.clientIp).toBe("");
  });
});
