/**
 * ext_authz Check and what a client can write into the request Envoy describes: the end user's
 * address (audit trail, per-IP Begin limit) comes only from what the deployment says its proxies
 * set (EXT_AUTHZ_CLIENT_IP), never from a header a client can write itself; a repeated header is
 * one value, whatever its case. Over grpc-js as Envoy calls it.
 */
import { create } from "@bufbuild/protobuf";
import { type Client as GrpcClient, status as GrpcStatus } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType } from "../../src/gen/authn/v1/audit_pb.js";
import { Authorization, CheckRequestSchema, type CheckResponse } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import type { BeginLimitSettings } from "../../src/limits/begin-limit-settings.js";
import type { ExtAuthzClientIp } from "../../src/step-up/ext-authz-client-ip.js";
import { grpcJsClient, unary } from "../support/grpc-js-client.js";
import { closeAll, ORIGIN, startTestService, type TestService } from "../support/service.js";
import { signedInUser } from "../support/step-up.js";

const PER_IP_ONLY: BeginLimitSettings = { perCaller: 0, perUser: 0, perIp: 2, windowSeconds: 60, outstandingPerUser: 0 };
const ENVOY_PEER = "203.0.113.7";
/** Another downstream address, with a per-IP bucket of its own. */
const AUDITED_PEER = "203.0.113.8";

interface CheckCall {
  readonly token: string;
  /** Header lines as Envoy's header_map sends them (encode_raw_headers), one entry per line. */
  readonly lines?: [string, string][];
  readonly evidence?: string;
  readonly peer?: string;
}

function serviceWith(from: ExtAuthzClientIp) {
  let svc: TestService;
  let envoy: GrpcClient;
  beforeAll(async () => {
    svc = await startTestService(undefined, { beginLimits: PER_IP_ONLY, stepUp: { extAuthzClientIp: from } });
    envoy = grpcJsClient(Authorization, svc.address);
  });
  afterAll(async () => {
    envoy?.close();
    await closeAll(svc);
  });

  const check = ({ token, lines = [], evidence, peer = ENVOY_PEER }: CheckCall) => {
    const headers = [...(token ? [["authorization", `Bearer ${token}`]] : []), ...lines, ...(evidence ? [["x-dynauthn-step-up", evidence]] : [])];
    return unary<CheckResponse>(
      envoy,
      "check",
      create(CheckRequestSchema, {
        attributes: {
          source: { address: { address: { case: "socketAddress", value: { address: peer, portValue: 51000 } } } },
          contextExtensions: { operation: "payments.transfer", single_use: "true" },
          request: {
            http: { method: "POST", path: "/v1/transfers", body: "{}", headerMap: { headers: headers.map(([key, v]) => ({ key, rawValue: Buffer.from(v!) })) } },
          },
        },
      }),
    );
  };

  /** Steps up once with `lines` and answers the client IP its STEP_UP audit event recorded. */
  const auditedIp = async (userId: string, lines: [string, string][]): Promise<string | undefined> => {
    const user = await signedInUser(svc, userId);
    const res = await check({ token: user.sessionToken, lines, peer: AUDITED_PEER });
    if (res.httpResponse.case !== "deniedResponse") throw new Error("expected a step-up challenge");
    const { options } = JSON.parse(res.httpResponse.value.body) as { options: object };
    const evidence = Buffer.from(JSON.stringify(user.authenticator.get(options, ORIGIN))).toString("base64url");
    expect((await check({ token: user.sessionToken, lines, evidence, peer: AUDITED_PEER })).status?.code).toBe(GrpcStatus.OK);
    const { events } = await svc.connect.listAuditEvents({ userId, pageSize: 50 });
    return events.find((e) => e.type === AuditEventType.STEP_UP)?.clientIp;
  };
  return { check, auditedIp, svc: () => svc };
}

describe("EXT_AUTHZ_CLIENT_IP=source (default): Envoy's own downstream address", () => {
  const { check, auditedIp, svc } = serviceWith({ from: "source", xffTrustedHops: 1 });

  it("a client cannot pick its per-IP bucket with x-envoy-external-address or x-forwarded-for", async () => {
    const user = await signedInUser(svc(), "spoofer");
    const spoofed = (n: number): [string, string][] => [
      ["x-envoy-external-address", `198.51.100.${n}`],
      ["x-forwarded-for", `198.51.100.${n}`],
    ];
    const httpStatus = (res: CheckResponse) => (res.httpResponse.case === "deniedResponse" ? res.httpResponse.value.status?.code : 200);
    expect(httpStatus(await check({ token: user.sessionToken, lines: spoofed(1) }))).toBe(401);
    expect(httpStatus(await check({ token: user.sessionToken, lines: spoofed(2) }))).toBe(401);
    const third = await check({ token: user.sessionToken, lines: spoofed(3) });
    expect(third.status?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(third.httpResponse.case === "deniedResponse" && JSON.parse(third.httpResponse.value.body)).toEqual({ error: "rate_limited", limit: "ip" });
  });

  it("a repeated authorization header is no bearer token, whatever the names' case; one in upper case is read", async () => {
    const user = await signedInUser(svc(), "two-tokens");
    const other = await signedInUser(svc(), "other-token");
    const body = (res: CheckResponse) => (res.httpResponse.case === "deniedResponse" ? JSON.parse(res.httpResponse.value.body) : {});
    const repeated = await check({ token: other.sessionToken, lines: [["Authorization", `Bearer ${user.sessionToken}`]], peer: "203.0.113.9" });
    expect(repeated.status?.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(body(repeated)).toEqual({ error: "unauthorized" });
    const upper = await check({ token: "", lines: [["AUTHORIZATION", `Bearer ${user.sessionToken}`]], peer: "203.0.113.9" });
    expect(body(upper).error).toBe("insufficient_user_authentication"); // the token was read: a step-up is asked for
  });

  it("the audited client IP is the source address, not the headers", async () => {
    expect(await auditedIp("audited-source", [["x-envoy-external-address", "198.51.100.66"]])).toBe(AUDITED_PEER);
  });
});

describe("EXT_AUTHZ_CLIENT_IP=x-forwarded-for with 2 trusted hops", () => {
  const { auditedIp } = serviceWith({ from: "x-forwarded-for", xffTrustedHops: 2 });

  it("takes the address 2 from the right, over repeated header lines; fewer addresses or no IP: none", async () => {
    expect(await auditedIp("xff-a", [["X-Forwarded-For", "6.6.6.6, 198.51.100.9, 10.0.0.5"]])).toBe("198.51.100.9");
    expect(await auditedIp("xff-b", [["x-forwarded-for", "6.6.6.6"], ["x-forwarded-for", "198.51.100.10, 10.0.0.5"]])).toBe("198.51.100.10");
    expect(await auditedIp("xff-c", [["x-forwarded-for", "10.0.0.5"]])).toBe("");
  });
});

describe("EXT_AUTHZ_CLIENT_IP=x-envoy-external-address (an edge Envoy with use_remote_address)", () => {
  const { auditedIp } = serviceWith({ from: "x-envoy-external-address", xffTrustedHops: 1 });

  it("takes the header when it is one address, nothing when it is not", async () => {
    expect(await auditedIp("edge-a", [["x-envoy-external-address", "2001:db8::7"]])).toBe("2001:db8::7");
    expect(await auditedIp("edge-b", [["x-envoy-external-address", "127.1"]])).toBe("");
  });
});
