import { readFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.js";
import { AuthService } from "../../src/gen/authn/v1/auth_service_pb.js";
import { createLogger } from "../../src/logger.js";
import { APP_DEFAULTS, createTestTables, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";
import { ephemeralServerSecrets } from "../../src/server-secrets.js";
import { selfSignedLocalhost } from "../support/tls-pki.js";

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

/**
 * A relay that forwards a connection's first `dribbled` bytes to `target` one byte per TCP write
 * (Nagle off), so the server sees the HTTP/2 preface or the HTTP/1.1 request line in pieces.
 */
async function dribblingRelay(target: URL, dribbled: number): Promise<{ url: string; close(): void }> {
  const relay = net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    let sent = 0;
    let writing = Promise.resolve();
    const forward = async (chunk: Buffer) => {
      while (sent < dribbled && chunk.length > 0) {
        upstream.write(chunk.subarray(0, 1));
        chunk = chunk.subarray(1);
        sent += 1;
        await new Promise((done) => setTimeout(done, 1));
      }
      if (chunk.length > 0) upstream.write(chunk);
    };
    client.on("data", (chunk: Buffer) => void (writing = writing.then(() => forward(chunk))));
    upstream.pipe(client);
    for (const s of [client, upstream]) s.on("error", () => (client.destroy(), upstream.destroy()));
  });
  await new Promise<void>((done) => relay.listen(0, "127.0.0.1", done));
  const { port } = relay.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => relay.close() };
}

describe("the first bytes of a connection arriving one at a time", () => {
  let svc: TestService;
  let relay: Awaited<ReturnType<typeof dribblingRelay>>;
  beforeAll(async () => {
    svc = await startTestService();
    relay = await dribblingRelay(new URL(svc.baseUrl), 40); // the 24-byte preface and more
  });
  afterAll(() => {
    relay?.close();
    return svc?.close();
  });

  it.each([
    ["gRPC over HTTP/2", () => createGrpcTransport({ baseUrl: relay.url })],
    ["Connect JSON over HTTP/1.1", () => createConnectTransport({ baseUrl: relay.url, httpVersion: "1.1" })],
  ])("%s is still served", async (_name, transport) => {
    await beginsAuthentication(transport());
    await beginsAuthentication(transport()); // and the connection goes on carrying calls
  });
});

describe("TLS when a certificate is configured", () => {
  let app: App;
  let ca: Buffer;
  beforeAll(async () => {
    const { certFile, keyFile } = selfSignedLocalhost();
    ca = readFileSync(certFile);
    const { dynamo, tablePrefix } = await createTestTables();
    app = await startApp(
      {
        ...APP_DEFAULTS,
        dynamo,
        tablePrefix,
        tenant: TEST_TENANT,
        tenants: [],
        signingKey: await generateSigningKey(),
        serverSecrets: ephemeralServerSecrets(),
        logger: createLogger("silent"),
        credentialCacheTtlSeconds: 0,
        tls: { certFile, keyFile },
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
