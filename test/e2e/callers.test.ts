/**
 * mTLS and the caller policy through the real transports: grpc-js with client certificates over
 * HTTP/2 and Connect over HTTPS (HTTP/1.1 and HTTP/2), certificates made by a throwaway CA.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerPolicySchema } from "../../src/callers/policy.js";
import type { TenantConfig } from "../../src/config.js";
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

  it("a call without the header is anonymous and refused", async () => {
    await expectRpcError(svc.connect.beginAuthentication({}), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
  });
});
