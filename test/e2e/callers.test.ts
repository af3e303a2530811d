/**
 * mTLS and the caller policy through the real transports: grpc-js with client certificates over
 * HTTP/2 and Connect over HTTPS (HTTP/1.1 and HTTP/2), certificates made by a throwaway CA.
 */
import http from "node:http";
import http2 from "node:http2";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerPolicySchema } from "../../src/callers/policy.js";
import type { TenantConfig } from "../../src/tenants/tenant-config.js";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import {
  AuthService,
  BeginRegistrationRequestSchema,
  type BeginRegistrationResponse,
  RevokeCredentialRequestSchema,
} from "../../src/gen/authn/v1/auth_service_pb.js";
import { Authorization } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { GetJwksRequestSchema } from "../../src/gen/authn/v1/step_up_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { expectRpcError } from "../support/ceremonies.js";
import { grpcJsClient, unary } from "../support/grpc-js-client.js";
import { createTestPki, type Issued, type TestPki } from "../support/tls-pki.js";
import { closeAll, ORIGIN, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

const ACCOUNTS = "spiffe://cluster.local/ns/accounts/sa/account-service";
const GATEWAY = "spiffe://cluster.local/ns/edge/sa/gateway";
const BETA: TenantConfig = { ...TEST_TENANT, id: "beta" };

const POLICY = callerPolicySchema.parse({
  rules: [
    {
      identity: ACCOUNTS,
      methods: ["*Registration", "*Credential*", "DeleteUser", "ListAuditEvents", "*Session*", "envoy.service.auth.v3.Authorization/Check"],
      tenants: ["default"],
    },
    { identity: GATEWAY, methods: ["*Authentication", "VerifyOperation", "Check"], tenants: ["*"] },
  ],
});

describe("callers over mTLS", () => {
  let pki: TestPki;
  let rogue: TestPki;
  let svc: TestService;
  let accounts: Issued;
  let gateway: Issued;
  let billing: Issued;
  let intruder: Issued;
  let cnPosingAsUri: Issued;
  const grpcClients: grpc.Client[] = [];

  /** Connect over HTTPS, presenting `who`'s client certificate (none when undefined). */
  const transportAs = (who: Issued | undefined, httpVersion: "1.1" | "2" = "1.1") =>
    createConnectTransport({
      baseUrl: `https://localhost:${svc.app.server.address.port}`,
      httpVersion,
      nodeOptions: { ca: pki.ca, ...(who ? { cert: who.cert, key: who.key } : {}) },
    });
  const connectAs = (who: Issued | undefined, httpVersion: "1.1" | "2" = "1.1"): Client<typeof AuthService> =>
    createClient(AuthService, transportAs(who, httpVersion));

  const grpcAs = (who: Issued | undefined): grpc.Client => {
    const credentials = who ? grpc.credentials.createSsl(pki.ca, who.key, who.cert) : grpc.credentials.createSsl(pki.ca);
    const client = grpcJsClient<grpc.Client>(AuthService, `localhost:${svc.app.server.address.port}`, credentials);
    grpcClients.push(client);
    return client;
  };

  beforeAll(async () => {
    pki = createTestPki();
    rogue = createTestPki("rogue-ca");
    const server = pki.issue("server", "dynauthn", "DNS:localhost,IP:127.0.0.1", "serverAuth");
    accounts = pki.issue("accounts", "account-service", `URI:${ACCOUNTS},DNS:accounts.svc`, "clientAuth");
    gateway = pki.issue("gateway", "gateway", `URI:${GATEWAY}`, "clientAuth");
    billing = pki.issue("billing", "billing", undefined, "clientAuth");
    intruder = rogue.issue("intruder", "account-service", `URI:${ACCOUNTS}`, "clientAuth");
    cnPosingAsUri = pki.issue("cn-posing-as-uri", ACCOUNTS, "DNS:billing.svc", "clientAuth");
    svc = await startTestService(undefined, {
      tenants: [BETA],
      callers: POLICY,
      tls: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile: pki.caFile },
    });
  });
  afterAll(async () => {
    for (const c of grpcClients) c.close();
    await closeAll(svc);
    pki.remove();
    rogue.remove();
  });

  it("refuses a client without a certificate at the TLS layer (grpc-js and HTTPS)", async () => {
    const err = (await unary(grpcAs(undefined), "getJwks", create(GetJwksRequestSchema)).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    const connectErr = await connectAs(undefined).getJwks({}).catch((e: unknown) => ConnectError.from(e));
    expect(connectErr).toBeInstanceOf(ConnectError);
    // The server's TLS alert 116 (certificate required, RFC 8446) is the refusal.
    expect((connectErr as ConnectError).message).toMatch(/certificate required/);
  });

  it("refuses a certificate from another CA, even with an allowed identity", async () => {
    const err = (await unary(grpcAs(intruder), "getJwks", create(GetJwksRequestSchema)).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    // The control: the same call with this CA's certificate reaches the policy (GetJwks is in no rule).
    const reached = (await unary(grpcAs(accounts), "getJwks", create(GetJwksRequestSchema)).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(reached.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("an allowed caller registers (grpc-js begin, Connect HTTP/2 finish) and its identity is in the audit event", async () => {
    const begin = await unary<BeginRegistrationResponse>(
      grpcAs(accounts),
      "beginRegistration",
      create(BeginRegistrationRequestSchema, { userId: "mia", userName: "mia" }),
    );
    const created = new SoftAuthenticator().create(begin.optionsJson, ORIGIN);
    const { credential } = await connectAs(accounts, "2").finishRegistration({ credentialJson: JSON.stringify(created) });
    expect(credential?.userId).toBe("mia");
    const { events } = await connectAs(accounts).listAuditEvents({ userId: "mia" });
    const registration = events.find((e) => e.type === AuditEventType.REGISTRATION);
    expect(registration).toMatchObject({ outcome: AuditOutcome.SUCCESS, caller: ACCOUNTS, details: { begin_caller: ACCOUNTS } });
  });

  it("the gateway signs in; its identity is the session's caller", async () => {
    const authenticator = new SoftAuthenticator();
    const begin = await connectAs(accounts).beginRegistration({ userId: "noah", userName: "noah" });
    await connectAs(accounts).finishRegistration({ credentialJson: JSON.stringify(authenticator.create(begin.optionsJson, ORIGIN)) });
    const gw = connectAs(gateway, "2");
    const signIn = await gw.beginAuthentication({ userId: "noah" });
    const done = await gw.finishAuthentication({ credentialJson: JSON.stringify(authenticator.get(signIn.optionsJson, ORIGIN)) });
    expect(done.userId).toBe("noah");
    const { sessions } = await connectAs(accounts).listSessions({ userId: "noah" });
    expect(sessions.map((s) => s.caller)).toEqual([GATEWAY]);
  });

  it("a disallowed RPC is PERMISSION_DENIED with CALLER_NOT_ALLOWED and a CALL_DENIED audit event", async () => {
    await expectRpcError(connectAs(gateway).listCredentials({ userId: "mia" }), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    const err = (await unary(grpcAs(gateway), "revokeCredential", create(RevokeCredentialRequestSchema, { userId: "mia", credentialId: "x" })).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    const { events } = await connectAs(accounts).listAuditEvents({ userId: "mia" });
    const denied = events.filter((e) => e.type === AuditEventType.CALL_DENIED);
    expect(denied.map((e) => [e.caller, e.details.procedure, e.reason, e.outcome])).toEqual([
      [GATEWAY, "authn.v1.AuthService/RevokeCredential", "CALLER_NOT_ALLOWED", AuditOutcome.FAILURE],
      [GATEWAY, "authn.v1.AuthService/ListCredentials", "CALLER_NOT_ALLOWED", AuditOutcome.FAILURE],
    ]);
    expect(denied[0]!.details.why).toBe("method not allowed for caller");
  });

  it("a disallowed tenant is PERMISSION_DENIED, before the tenant is even resolved", async () => {
    await expectRpcError(
      connectAs(accounts).beginRegistration({ tenant: "beta", userId: "mia", userName: "mia" }),
      Code.PermissionDenied,
      "CALLER_NOT_ALLOWED",
    );
    await expectRpcError(connectAs(accounts).listCredentials({ tenant: "nope", userId: "mia" }), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    const { events } = await connectAs(accounts).listAuditEvents({ userId: "mia" });
    const unknownTenant = events.find((e) => e.type === AuditEventType.CALL_DENIED && e.details.requested_tenant === "nope");
    expect(unknownTenant).toMatchObject({ tenant: "default", caller: ACCOUNTS, details: { why: "tenant not allowed for caller" } });
    // The gateway may use every tenant: the same tenant is then resolved as usual.
    await expectRpcError(connectAs(gateway).beginAuthentication({ tenant: "nope" }), Code.InvalidArgument, "TENANT_UNKNOWN");
    expect((await connectAs(gateway).beginAuthentication({ tenant: "beta" })).optionsJson).toContain("challenge");
  });

  it("ext_authz Check is held to the tenant of its context_extensions", async () => {
    const authz = createClient(Authorization, transportAs(accounts, "2"));
    const request = (tenant?: string) => ({
      attributes: {
        contextExtensions: tenant ? { tenant } : ({} as Record<string, string>),
        request: { http: { method: "POST", path: "/pay", headers: {} } },
      },
    });
    await expectRpcError(authz.check(request("beta")), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    // The default tenant is allowed: the handler answers (401, no bearer token).
    const answer = await authz.check(request());
    expect(answer.httpResponse.case).toBe("deniedResponse");
  });

  it("a certificate without a URI SAN is known by its CN; with no rule it may only reach health", async () => {
    await expectRpcError(connectAs(billing).beginAuthentication({ userId: "mia" }), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    const { events } = await connectAs(accounts).listAuditEvents({ userId: "mia" });
    expect(events.find((e) => e.caller === "billing")).toMatchObject({
      type: AuditEventType.CALL_DENIED,
      details: { procedure: "authn.v1.AuthService/BeginAuthentication", why: "caller has no rule" },
    });
    const health = createClient(Health, transportAs(billing, "2"));
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
  });
  it("a CN shaped like a SPIFFE ID is not that SPIFFE caller: it names no one, and why is audited (identity break 1)", async () => {
    // The trusted CA let a team choose its CN: CN=<account-service's SPIFFE ID>, SAN only DNS:billing.svc.
    await expectRpcError(connectAs(cnPosingAsUri).listCredentials({ userId: "mia" }), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    const err = (await unary(grpcAs(cnPosingAsUri), "revokeCredential", create(RevokeCredentialRequestSchema, { userId: "mia", credentialId: "x" })).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    const { events } = await connectAs(accounts).listAuditEvents({ userId: "mia" });
    const denied = events.filter((e) => e.type === AuditEventType.CALL_DENIED && e.details.identity_rejected);
    expect(denied.map((e) => [e.caller, e.details.procedure, e.details.why, e.details.identity_rejected])).toEqual([
      ["", "authn.v1.AuthService/RevokeCredential", "anonymous caller", "client certificate: CN starts with a URI scheme; only a URI SAN names a URI identity"],
      ["", "authn.v1.AuthService/ListCredentials", "anonymous caller", "client certificate: CN starts with a URI scheme; only a URI SAN names a URI identity"],
    ]);
  });
});

describe("callers behind a mesh (callerIdentity: xfcc)", () => {
  let svc: TestService;
  const SIDECAR = "By=spiffe://cluster.local/ns/authn/sa/dynauthn;Hash=0f;Subject=\"\";URI=";
  const as = (identity: string) => ({ headers: { "x-forwarded-client-cert": `${SIDECAR}${identity}` } });

  beforeAll(async () => {
    svc = await startTestService(undefined, { callers: callerPolicySchema.parse({ ...POLICY, callerIdentity: "xfcc" }) });
  });
  afterAll(() => closeAll(svc));

  it("takes the identity the sidecar appended, not one the client forged before it", async () => {
    const forged = { headers: { "x-forwarded-client-cert": `URI=${ACCOUNTS},${SIDECAR}${GATEWAY}` } };
    await expectRpcError(svc.connect.listCredentials({ userId: "zoe" }, forged), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    expect((await svc.connect.listCredentials({ userId: "zoe" }, as(ACCOUNTS))).credentials).toEqual([]);
    const { events } = await svc.connect.listAuditEvents({ userId: "zoe" }, as(ACCOUNTS));
    expect(events.map((e) => [e.type, e.caller])).toEqual([[AuditEventType.CALL_DENIED, GATEWAY]]);
  });

  it("a client's unbalanced quote cannot swallow the sidecar's element (issue 13, break 1)", async () => {
    // The gateway sends its own header ending in an open quote; the sidecar (APPEND_FORWARD)
    // appends its element naming the gateway. A quote-aware splitter read one element and took
    // the client's URI: the gateway listed credentials and revoked sessions as account-service.
    const attack = { headers: { "x-forwarded-client-cert": `URI=${ACCOUNTS};x=",${SIDECAR}${GATEWAY}` } };
    await expectRpcError(svc.connect.listCredentials({ userId: "yan" }, attack), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    await expectRpcError(svc.connect.revokeAllSessions({ userId: "yan" }, attack), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    // Refused as anonymous, and audited with why the header was refused, never with the header.
    const { events } = await svc.connect.listAuditEvents({ userId: "yan" }, as(ACCOUNTS));
    expect(events.map((e) => [e.type, e.caller, e.details.procedure, e.details.why, e.details.identity_rejected])).toEqual([
      [AuditEventType.CALL_DENIED, "", "authn.v1.AuthService/RevokeAllSessions", "anonymous caller", "x-forwarded-client-cert: stray character where ',' was expected"],
      [AuditEventType.CALL_DENIED, "", "authn.v1.AuthService/ListCredentials", "anonymous caller", "x-forwarded-client-cert: stray character where ',' was expected"],
    ]);
    expect(JSON.stringify(events.map((e) => e.details))).not.toContain("account-service");
  });

  it("repeated header lines are one list in order (HTTP/1.1 and HTTP/2): a client's open quote on its own line is still refused", async () => {
    const lines = (clientLine: string) => [clientLine, `${SIDECAR}${GATEWAY}`];
    for (const send of [connectJsonOverHttp1, connectJsonOverHttp2]) {
      const forged = await send(svc.app.server.address.port, "ListCredentials", { userId: "zoe" }, lines(`URI=${ACCOUNTS};x="`));
      expect(forged, send.name).toMatchObject({ status: 403, body: { code: "permission_denied" } });
      // A well-formed client line before the sidecar's is the client's claim, and ignored.
      const claimed = await send(svc.app.server.address.port, "BeginAuthentication", {}, lines(`URI=${ACCOUNTS}`));
      expect(claimed, send.name).toMatchObject({ status: 200 });
    }
  });

  it("a Subject CN shaped like a SPIFFE ID is not that caller (identity break 1)", async () => {
    const posing = { headers: { "x-forwarded-client-cert": `By=spiffe://cluster.local/ns/authn/sa/dynauthn;Hash=0f;Subject="CN=${ACCOUNTS}";URI=;DNS=billing.svc` } };
    await expectRpcError(svc.connect.listCredentials({ userId: "ivo" }, posing), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    const { events } = await svc.connect.listAuditEvents({ userId: "ivo" }, as(ACCOUNTS));
    expect(events.map((e) => [e.type, e.caller, e.details.why, e.details.identity_rejected])).toEqual([
      [AuditEventType.CALL_DENIED, "", "anonymous caller", "x-forwarded-client-cert: CN starts with a URI scheme; only a URI SAN names a URI identity"],
    ]);
    // A plain CN is still a caller: the policy is reached with it (it has no rule here).
    const plain = { headers: { "x-forwarded-client-cert": 'By=spiffe://cluster.local/ns/authn/sa/dynauthn;Hash=0f;Subject="CN=billing";URI=' } };
    await expectRpcError(svc.connect.listCredentials({ userId: "ivo" }, plain), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    const after = await svc.connect.listAuditEvents({ userId: "ivo" }, as(ACCOUNTS));
    expect(after.events[0]).toMatchObject({ caller: "billing", details: { why: "caller has no rule" } });
  });

  it("a call without the header is anonymous and refused", async () => {
    await expectRpcError(svc.connect.beginAuthentication({}), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
  });

  it("the gRPC unary path reads the identity the same way: the sidecar's element, repeated lines as one list", async () => {
    const grpcClient = createClient(AuthService, createGrpcTransport({ baseUrl: svc.baseUrl }));
    const forged = { headers: { "x-forwarded-client-cert": `URI=${ACCOUNTS},${SIDECAR}${GATEWAY}` } };
    await expectRpcError(grpcClient.listCredentials({ userId: "gus" }, forged), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    expect((await grpcClient.listCredentials({ userId: "gus" }, as(ACCOUNTS))).credentials).toEqual([]);
    await expectRpcError(grpcClient.beginAuthentication({}), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    const lines = (clientLine: string) => [clientLine, `${SIDECAR}${GATEWAY}`];
    const port = svc.app.server.address.port;
    expect(await grpcOverHttp2(port, "ListCredentials", lines(`URI=${ACCOUNTS};x="`))).toBe(String(grpc.status.PERMISSION_DENIED));
    expect(await grpcOverHttp2(port, "BeginAuthentication", lines(`URI=${ACCOUNTS}`))).toBe(String(grpc.status.OK));
    const { events } = await svc.connect.listAuditEvents({ userId: "gus" }, as(ACCOUNTS));
    expect(events.map((e) => [e.type, e.caller, e.details.procedure])).toEqual([[AuditEventType.CALL_DENIED, GATEWAY, "authn.v1.AuthService/ListCredentials"]]);
  });
});

interface RawAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** A Connect JSON unary call over HTTP/1.1 with x-forwarded-client-cert sent as separate header lines. */
async function connectJsonOverHttp1(port: number, method: string, message: object, xfccLines: string[]): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: "127.0.0.1", method: "POST", path: `/authn.v1.AuthService/${method}`, headers: { "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    req.setHeader("x-forwarded-client-cert", xfccLines); // an array: one header line per value
    req.on("error", reject);
    req.end(JSON.stringify(message));
  });
}

/** The same over HTTP/2 (prior knowledge). */
async function connectJsonOverHttp2(port: number, method: string, message: object, xfccLines: string[]): Promise<RawAnswer> {
  const answer = await overHttp2(port, method, "application/json", JSON.stringify(message), xfccLines);
  return { status: answer.status, body: JSON.parse(answer.body.toString("utf8")) };
}

/** A gRPC unary call with an empty message over HTTP/2, x-forwarded-client-cert as separate fields; its grpc-status. */
async function grpcOverHttp2(port: number, method: string, xfccLines: string[]): Promise<string | undefined> {
  return (await overHttp2(port, method, "application/grpc", Buffer.alloc(5), xfccLines)).grpcStatus;
}

/** One unary call over HTTP/2 (prior knowledge): an array value is one header field per value. */
async function overHttp2(
  port: number,
  method: string,
  contentType: string,
  body: string | Buffer,
  xfccLines: string[],
): Promise<{ status: number; body: Buffer; grpcStatus: string | undefined }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": `/authn.v1.AuthService/${method}`,
        "content-type": contentType,
        te: "trailers",
        "x-forwarded-client-cert": xfccLines,
      });
      let status = 0;
      let grpcStatus: string | undefined;
      const chunks: Buffer[] = [];
      stream.on("response", (headers) => {
        status = Number(headers[":status"]);
        grpcStatus = headers["grpc-status"] as string | undefined;
      });
      stream.on("trailers", (trailers) => (grpcStatus = trailers["grpc-status"] as string | undefined));
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => resolve({ status, body: Buffer.concat(chunks), grpcStatus }));
      stream.on("error", reject);
      stream.end(body);
    });
  } finally {
    session.close();
  }
}
