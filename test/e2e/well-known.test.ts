import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import { AuthService, type GetPasskeyEndpointsResponse, type GetRelatedOriginsResponse } from "../../src/gen/authn/v1/auth_service_pb.js";
import { Decision, DenyReason } from "../../src/gen/authn/v1/step_up_pb.js";
import { createLogger } from "../../src/logger.js";
import type { TenantConfig } from "../../src/tenants/tenant-config.js";
import { readTenantsFile, tenantConfigsOf } from "../../src/tenants/tenants-file.js";
import { TenantsFileReloader } from "../../src/tenants/tenants-file-reloader.js";
import { PASSKEY_ENDPOINTS_PATH, RELATED_ORIGINS_PATH } from "../../src/tenants/well-known.js";
import { expectRpcError } from "../support/ceremonies.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { grpcErrorDetails, unary } from "../support/grpc-js-client.js";
import { startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { transfer } from "../support/step-up.js";

const RELATED = ["https://example.co.uk", "https://examplerewards.com"];
const ENDPOINTS = { enroll: "https://example.com/account/passkeys/new", manage: "https://example.com/account/passkeys" };

/** RP ID example.com, used from its own origin and two related ones on other sites. */
export const SHOP: TenantConfig = {
  ...TEST_TENANT,
  id: "shop",
  rpId: "example.com",
  origins: ["https://example.com"],
  relatedOrigins: RELATED,
  passkeyEndpoints: ENDPOINTS,
};
/** A tenant with neither document. */
const PLAIN: TenantConfig = { ...TEST_TENANT, id: "plain", rpId: "example.org", origins: ["https://example.org"] };

/** One HTTP/1.1 request written by hand (duplicate headers, absolute-form targets); returns the status. */
async function rawStatus(address: string, head: string): Promise<number> {
  const [host, port] = address.split(":");
  const socket = net.connect(Number(port), host);
  socket.write(`${head}\r\nConnection: close\r\n\r\n`);
  let text = "";
  for await (const chunk of socket) text += String(chunk);
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
}

/** A request with this Host over HTTP/1.1 (Node's client sends the Host given). */
function httpGet(
  svc: TestService,
  path: string,
  host: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const [hostname, port] = svc.address.split(":");
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: init.method ?? "GET", headers: { host, ...init.headers } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += String(c)));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** How a Connect or a grpc-js call failed: [STATUS, ErrorInfo reason]. */
async function refusal(call: Promise<unknown>): Promise<[string, string | undefined]> {
  const err: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof ConnectError) return [Code[err.code].toUpperCase(), err.findDetails(ErrorInfoSchema)[0]?.reason];
  const grpcErr = err as ServiceError | undefined;
  return grpcErr ? [GrpcStatus[grpcErr.code], grpcErrorDetails(grpcErr, ErrorInfoSchema)[0]?.reason] : ["OK", undefined];
}

describe("related origins and passkey endpoints", () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService(undefined, { tenants: [SHOP, PLAIN] });
  });
  afterAll(() => svc?.close());

  describe("ceremonies from a related origin (RP ID hash stays example.com)", () => {
    const transports = [
      ["Connect", (req: { tenant: string; credentialJson: string }) => svc.connect.finishRegistration(req), (req: { tenant: string; credentialJson: string }) => svc.connect.finishAuthentication(req)],
      [
        "gRPC",
        (req: { tenant: string; credentialJson: string }) => unary(svc.grpc, "finishRegistration", create(AuthService.method.finishRegistration.input, req)),
        (req: { tenant: string; credentialJson: string }) => unary(svc.grpc, "finishAuthentication", create(AuthService.method.finishAuthentication.input, req)),
      ],
    ] as const;

    it.each(transports)("registration and sign-in over %s accept related origins and refuse any other as ORIGIN_MISMATCH", async (name, finishRegistration, finishAuthentication) => {
      const authenticator = new SoftAuthenticator();
      const userId = `related-${name}`;
      const beginRegistration = async () => (await svc.connect.beginRegistration({ tenant: "shop", userId, userName: userId })).optionsJson;
      const refused = await beginRegistration();
      for (const origin of ["https://evil.example.net", "https://example.de", "http://example.co.uk", "https://www.example.co.uk"]) {
        const call = finishRegistration({ tenant: "shop", credentialJson: JSON.stringify(authenticator.create(refused, origin)) });
        expect([origin, ...(await refusal(call))]).toEqual([origin, "UNAUTHENTICATED", "ORIGIN_MISMATCH"]);
      }
      const created = authenticator.create(await beginRegistration(), RELATED[0]!);
      await expect(finishRegistration({ tenant: "shop", credentialJson: JSON.stringify(created) })).resolves.toBeDefined();

      for (const origin of ["https://example.com", ...RELATED]) {
        const begin = await svc.connect.beginAuthentication({ tenant: "shop", userId });
        const done = await finishAuthentication({ tenant: "shop", credentialJson: JSON.stringify(authenticator.get(begin.optionsJson, origin)) });
        expect(done).toMatchObject({ userId });
      }
      const begin = await svc.connect.beginAuthentication({ tenant: "shop", userId });
      const foreign = authenticator.get(begin.optionsJson, "https://evil.example.net");
      expect(await refusal(finishAuthentication({ tenant: "shop", credentialJson: JSON.stringify(foreign) }))).toEqual(["UNAUTHENTICATED", "ORIGIN_MISMATCH"]);
      // Cross-origin iframe rules are unchanged: a related origin framed by another site is refused.
      const framed = authenticator.get(begin.optionsJson, RELATED[1]!, { crossOrigin: true });
      expect(await refusal(finishAuthentication({ tenant: "shop", credentialJson: JSON.stringify(framed) }))).toEqual(["UNAUTHENTICATED", "CROSS_ORIGIN_REJECTED"]);
      // One tenant's related origin is nothing to another tenant.
      const other = await svc.connect.beginRegistration({ tenant: "plain", userId, userName: userId });
      const elsewhere = new SoftAuthenticator().create(other.optionsJson, RELATED[0]!);
      expect(await refusal(finishRegistration({ tenant: "plain", credentialJson: JSON.stringify(elsewhere) }))).toEqual(["UNAUTHENTICATED", "ORIGIN_MISMATCH"]);
    });

    it("step-up (VerifyOperation) accepts an assertion from a related origin; another origin is DENY EVIDENCE_INVALID, audited ORIGIN_MISMATCH", async () => {
      const authenticator = new SoftAuthenticator();
      const userId = "related-step-up";
      const reg = await svc.connect.beginRegistration({ tenant: "shop", userId, userName: userId });
      await svc.connect.finishRegistration({ tenant: "shop", credentialJson: JSON.stringify(authenticator.create(reg.optionsJson, RELATED[1]!)) });
      const signIn = await svc.connect.beginAuthentication({ tenant: "shop", userId });
      const { sessionToken } = await svc.connect.finishAuthentication({ tenant: "shop", credentialJson: JSON.stringify(authenticator.get(signIn.optionsJson, RELATED[1]!)) });
      const request = { tenant: "shop", sessionToken, operation: transfer(900), requirement: { maxAge: { seconds: 0n } } };

      const stepUp = async (origin: string) => {
        const needed = await svc.connect.verifyOperation(request);
        expect(Decision[needed.decision]).toBe("STEP_UP_REQUIRED");
        const optionsJson = needed.details.case === "stepUpRequired" ? needed.details.value.optionsJson : "";
        svc.clock.advance(1000);
        return svc.connect.verifyOperation({ ...request, evidence: { case: "credentialJson", value: JSON.stringify(authenticator.get(optionsJson, origin)) } });
      };
      const foreign = await stepUp("https://evil.example.net");
      expect([Decision[foreign.decision], foreign.details.case === "denied" ? DenyReason[foreign.details.value.reason] : ""]).toEqual(["DENY", "EVIDENCE_INVALID"]);
      expect(Decision[(await stepUp(RELATED[0]!)).decision]).toBe("ALLOW");

      const { events } = await svc.connect.listAuditEvents({ tenant: "shop", userId });
      const stepUps = events.filter((e) => e.type === AuditEventType.STEP_UP).map((e) => [AuditOutcome[e.outcome], e.reason]);
      expect(stepUps).toContainEqual(["FAILURE", "ORIGIN_MISMATCH"]);
      expect(stepUps).toContainEqual(["SUCCESS", ""]);
    });
  });

  describe("GET /.well-known/webauthn and /.well-known/passkey-endpoints", () => {
    const get = (path: string, host: string, init: { method?: string; headers?: Record<string, string> } = {}) => httpGet(svc, path, host, init);

    it("serves the tenant whose RP ID is the Host: the documents, application/json, cacheable, with an ETag", async () => {
      const related = await get(RELATED_ORIGINS_PATH, "example.com");
      expect(related).toMatchObject({ status: 200, body: JSON.stringify({ origins: RELATED }) });
      expect(related.headers).toMatchObject({ "content-type": "application/json", "cache-control": "public, max-age=300", "x-content-type-options": "nosniff" });
      const endpoints = await get(PASSKEY_ENDPOINTS_PATH, "example.com");
      expect(endpoints).toMatchObject({ status: 200, body: JSON.stringify(ENDPOINTS) });
      expect(endpoints.headers["content-type"]).toBe("application/json");

      const again = await get(RELATED_ORIGINS_PATH, "example.com", { headers: { "if-none-match": String(related.headers.etag) } });
      expect([again.status, again.body]).toEqual([304, ""]);
      // Port stripped, case folded, query ignored; HEAD has the headers without the body.
      for (const host of ["example.com:443", "EXAMPLE.com", "example.com:8443"]) expect((await get(RELATED_ORIGINS_PATH, host)).body, host).toBe(related.body);
      expect((await get(`${RELATED_ORIGINS_PATH}?origins=https://evil.example`, "example.com")).body).toBe(related.body);
      const head = await get(RELATED_ORIGINS_PATH, "example.com", { method: "HEAD" });
      expect([head.status, head.body, head.headers["content-type"]]).toEqual([200, "", "application/json"]);
    });

    it("404 for a host that is no tenant's RP ID and for a tenant without the document; 405 for other methods", async () => {
      for (const path of [RELATED_ORIGINS_PATH, PASSKEY_ENDPOINTS_PATH]) {
        for (const host of ["example.org", "localhost", "evil.example.net", "example.com.", "www.example.com", "127.0.0.1"]) {
          const res = await get(path, host);
          expect([path, host, res.status, res.body, res.headers["cache-control"]]).toEqual([path, host, 404, "", "no-store"]);
        }
        for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
          const res = await get(path, "example.com", { method });
          expect([path, method, res.status, res.headers.allow]).toEqual([path, method, 405, "GET, HEAD"]);
        }
      }
      // Forwarding headers are never read: a front that rewrites Host gets no document.
      const forwarded = await get(RELATED_ORIGINS_PATH, "dynauthn.internal.svc", { headers: { "x-forwarded-host": "example.com", forwarded: "host=example.com" } });
      expect(forwarded.status).toBe(404);
      for (const path of [`${RELATED_ORIGINS_PATH}/`, "/.well-known/%77ebauthn", "//.well-known/webauthn", "/.well-known/WEBAUTHN"]) {
        expect([path, (await get(path, "example.com")).status]).toEqual([path, 404]);
      }
    });

    it("refuses hostile Host values as 400, and never answers for a host named anywhere but Host / :authority", async () => {
      for (const host of ["example.com@evil.example", "evil.example,example.com", "example.com example.org", "exa%6dple.com", "[::1]:80", "exämple.com", "example.com:", "example.com:99999999"]) {
        expect([host, (await get(RELATED_ORIGINS_PATH, host)).status]).toEqual([host, 400]);
      }
      // Two Host lines: a front may have routed or cached by the other one (RFC 9112 §3.2: 400).
      expect(await rawStatus(svc.address, `GET ${RELATED_ORIGINS_PATH} HTTP/1.1\r\nHost: example.com\r\nHost: evil.example`)).toBe(400);
      expect(await rawStatus(svc.address, `GET ${RELATED_ORIGINS_PATH} HTTP/1.1\r\nHost: evil.example\r\nHost: example.com`)).toBe(400);
      expect(await rawStatus(svc.address, `GET ${RELATED_ORIGINS_PATH} HTTP/1.1\r\nHost: `)).toBe(400);
      // HTTP/1.0 without Host: no tenant to pick.
      expect(await rawStatus(svc.address, `GET ${RELATED_ORIGINS_PATH} HTTP/1.0`)).toBe(400);
      // Absolute-form targets are not served (the path is matched exactly), whatever host they name.
      expect(await rawStatus(svc.address, `GET http://example.com${RELATED_ORIGINS_PATH} HTTP/1.1\r\nHost: example.com`)).toBe(404);
      expect(await rawStatus(svc.address, `GET https://example.com${RELATED_ORIGINS_PATH} HTTP/1.1\r\nHost: evil.example`)).toBe(404);
      expect(await rawStatus(svc.address, `GET ${RELATED_ORIGINS_PATH} HTTP/1.1\r\nHost: example.com`)).toBe(200);
    });

    it("over HTTP/2 the :authority decides; a Host that disagrees with it is 400", async () => {
      const session = http2.connect(`http://${svc.address}`);
      try {
        const request = (headers: http2.OutgoingHttpHeaders) =>
          new Promise<{ status: number; body: string }>((resolve, reject) => {
            const stream = session.request({ ":path": RELATED_ORIGINS_PATH, ...headers });
            let status = 0;
            let body = "";
            stream.on("response", (h) => (status = Number(h[":status"])));
            stream.on("data", (c) => (body += String(c)));
            stream.on("end", () => resolve({ status, body }));
            stream.on("error", reject);
          });
        expect(await request({ ":authority": "example.com" })).toEqual({ status: 200, body: JSON.stringify({ origins: RELATED }) });
        expect((await request({ ":authority": "example.org" })).status).toBe(404);
        expect((await request({ ":authority": "example.com", host: "example.com:443" })).status).toBe(400);
        expect((await request({ ":authority": "evil.example", host: "example.com" })).status).toBe(400);
        expect((await request({ ":authority": "example.com", host: "EXAMPLE.COM" })).status).toBe(200);
      } finally {
        session.close();
      }
    });
  });

  describe("GetRelatedOrigins / GetPasskeyEndpoints", () => {
    const rpcs = [
      ["Connect", (tenant: string) => svc.connect.getRelatedOrigins({ tenant }), (tenant: string) => svc.connect.getPasskeyEndpoints({ tenant })],
      [
        "gRPC",
        (tenant: string) => unary<GetRelatedOriginsResponse>(svc.grpc, "getRelatedOrigins", create(AuthService.method.getRelatedOrigins.input, { tenant })),
        (tenant: string) => unary<GetPasskeyEndpointsResponse>(svc.grpc, "getPasskeyEndpoints", create(AuthService.method.getPasskeyEndpoints.input, { tenant })),
      ],
    ] as const;

    it.each(rpcs)("over %s: the document the route serves; empty document_json where the route answers 404", async (_name, related, endpoints) => {
      const served = await fetch(new URL(RELATED_ORIGINS_PATH, svc.baseUrl)); // Host 127.0.0.1: no tenant
      expect(served.status).toBe(404);
      expect(await related("shop")).toMatchObject({ rpId: "example.com", origins: RELATED, documentJson: JSON.stringify({ origins: RELATED }) });
      expect(await endpoints("shop")).toMatchObject({ rpId: "example.com", ...ENDPOINTS, documentJson: JSON.stringify(ENDPOINTS) });
      expect(await related("plain")).toMatchObject({ rpId: "example.org", origins: [], documentJson: "" });
      expect(await endpoints("plain")).toMatchObject({ rpId: "example.org", enroll: "", manage: "", documentJson: "" });
      expect(await related("")).toMatchObject({ rpId: "localhost", documentJson: "" });
    });

    it("an unknown tenant is TENANT_UNKNOWN", async () => {
      await expectRpcError(svc.connect.getRelatedOrigins({ tenant: "nobody" }), Code.InvalidArgument, "TENANT_UNKNOWN");
      await expectRpcError(svc.connect.getPasskeyEndpoints({ tenant: "nobody" }), Code.InvalidArgument, "TENANT_UNKNOWN");
    });
  });
});

describe("a tenants-file reload changes the documents served and the origins accepted", () => {
  const dir = mkdtempSync(join(tmpdir(), "dynauthn-well-known-"));
  const path = join(dir, "dynauthn.yaml");
  const DEFAULTS = { challengeTtlSeconds: 300, sessionTtlSeconds: 600 };
  let version = 0;
  const write = (relatedOrigins: readonly string[], endpoints: string) => {
    writeFileSync(path, `tenants:\n  - {id: shop, rpId: example.com, rpName: Shop, origins: [https://example.com], relatedOrigins: ${JSON.stringify(relatedOrigins)}${endpoints}}\n`);
    const t = new Date(Date.UTC(2026, 0, 1) + ++version * 1000);
    utimesSync(path, t, t);
  };
  let svc: TestService;
  let reloader: TenantsFileReloader;

  beforeAll(async () => {
    write(["https://example.co.uk"], ", passkeyEndpoints: {manage: 'https://example.com/passkeys'}");
    const { defaultTenant } = tenantConfigsOf(readTenantsFile(path, DEFAULTS));
    svc = await startTestService(undefined, { tenant: defaultTenant });
    reloader = new TenantsFileReloader({ path, defaults: DEFAULTS, tenants: svc.app.tenants, authorizer: undefined, hasMetadata: false, logger: createLogger("silent") });
    await reloader.start(0);
  });
  afterAll(async () => {
    reloader?.stop();
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const served = async (wellKnownPath: string) => {
    const res = await httpGet(svc, wellKnownPath, "example.com");
    return res.status === 200 ? res.body : res.status;
  };
  const registersFrom = async (origin: string) => {
    const begin = await svc.connect.beginRegistration({ userId: `u-${origin}-${version}`, userName: "u" });
    const credentialJson = JSON.stringify(new SoftAuthenticator().create(begin.optionsJson, origin));
    return (await refusal(svc.connect.finishRegistration({ credentialJson })))[1] ?? "accepted";
  };

  it("serves the new documents at once; a reload that breaks the label limit keeps the running ones", async () => {
    expect(await served(RELATED_ORIGINS_PATH)).toBe('{"origins":["https://example.co.uk"]}');
    expect(await served(PASSKEY_ENDPOINTS_PATH)).toBe('{"manage":"https://example.com/passkeys"}');
    expect(await registersFrom("https://example.co.uk")).toBe("accepted");

    write(["https://examplerewards.com"], "");
    expect(await reloader.reload()).toBe(true);
    expect(await served(RELATED_ORIGINS_PATH)).toBe('{"origins":["https://examplerewards.com"]}');
    expect(await served(PASSKEY_ENDPOINTS_PATH)).toBe(404);
    expect(await svc.connect.getPasskeyEndpoints({})).toMatchObject({ documentJson: "" });
    expect(await registersFrom("https://example.co.uk")).toBe("ORIGIN_MISMATCH");
    expect(await registersFrom("https://examplerewards.com")).toBe("accepted");

    write(["a", "b", "c", "d", "e", "f"].map((l) => `https://${l}shop.com`), "");
    expect(await reloader.reload()).toBe(false);
    expect(await served(RELATED_ORIGINS_PATH)).toBe('{"origins":["https://examplerewards.com"]}');
    expect((await svc.connect.getRelatedOrigins({})).origins).toEqual(["https://examplerewards.com"]);
  });
});
