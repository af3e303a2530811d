import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.js";
import { AuthService } from "../../src/gen/authn/v1/auth_service_pb.js";
import { createLogger } from "../../src/logger.js";
import { createTestTables, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";

async function beginsAuthentication(transport: Transport): Promise<void> {
  const res = await createClient(AuthService, transport).beginAuthentication({});
  // A sealed challenge: version, key id, nonce, the sealed ceremony and its GCM tag.
  expect(JSON.parse(res.optionsJson).challenge).toMatch(/^[A-Za-z0-9_-]{100,600}$/);
}

describe("every protocol on the one cleartext port", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.close());

  it.each([
    ["Connect JSON over HTTP/1.1", () => createConnectTransport({ baseUrl: svc.baseUrl, httpVersion: "1.1" })],
    ["Connect binary over HTTP/1.1", () => createConnectTransport({ baseUrl: svc.baseUrl, httpVersion: "1.1", useBinaryFormat: true })],
    ["Connect JSON over HTTP/2", () => createConnectTransport({ baseUrl: svc.baseUrl, httpVersion: "2" })],
    ["gRPC over HTTP/2", () => createGrpcTransport({ baseUrl: svc.baseUrl })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: svc.baseUrl, httpVersion: "1.1" })],
    ["gRPC-Web over HTTP/2", () => createGrpcWebTransport({ baseUrl: svc.baseUrl, httpVersion: "2" })],
  ])("%s", async (_name, transport) => {
    await beginsAuthentication(transport());
  });
});

describe("TLS when a certificate is configured", () => {
  let app: App;
  let ca: Buffer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "dynauthn-tls-"));
    const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
    ], { stdio: "ignore" });
    ca = readFileSync(cert);
    const { dynamo, tablePrefix } = await createTestTables();
    app = await startApp(
      {
        dynamo,
        tablePrefix,
        tenant: TEST_TENANT,
        signingKey: await generateSigningKey(),
        logger: createLogger("silent"),
        credentialCacheTtlSeconds: 0,
        tls: { certFile: cert, keyFile: key },
      },
      0,
      "127.0.0.1",
    );
  });
  afterAll(() => app?.server.close(1000));

  it.each([["1.1" as const], ["2" as const]])("serves Connect over HTTP/%s and gRPC over TLS", async (httpVersion) => {
    const baseUrl = `https://localhost:${app.server.address.port}`;
    const nodeOptions = { ca };
    await beginsAuthentication(createConnectTransport({ baseUrl, httpVersion, nodeOptions }));
    await beginsAuthentication(createGrpcTransport({ baseUrl, nodeOptions }));
  });
});
