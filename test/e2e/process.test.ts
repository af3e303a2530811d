/**
 * The real service process (`node dist/main.js`), started the way an operator runs it: built
 * once, configured only through its environment, spoken to over the network, stopped by signal.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, fromBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import {
  AuthService,
  BeginAuthenticationRequestSchema,
  FinishAuthenticationRequestSchema,
  type BeginAuthenticationResponse,
} from "../../src/gen/authn/v1/auth_service_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus as Status,
  type HealthCheckResponse,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { grpcJsClient, unary } from "../support/grpc-js-client.js";
import { ORIGIN } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { mdsSigningPki, signBlob } from "../support/attestation-pki.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LISTEN_DEADLINE_MS = 60_000;
const EXIT_DEADLINE_MS = 15_000;
const STOP_GRACE_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Helpers

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface ServiceProcess {
  readonly proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited. */
  readonly exited: Promise<Exit>;
  /** SIGTERM, then SIGKILL if it is still running after STOP_GRACE_MS. */
  stop(): Promise<Exit>;
}

interface ListeningProcess extends ServiceProcess {
  /** host:port, as grpc-js wants it. */
  readonly address: string;
  readonly baseUrl: string;
}

/** Every child this file starts, so none outlives it. */
const children = new Set<ServiceProcess>();

let tmp: string;
let signingKeyFile: string;
let serverSecretsFile: string;
let signingKeyPem: string;

/** Only PATH and HOME from the test runner: no AWS credentials or other settings leak in. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME"] as const) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** A loopback address with nothing listening on it. */
async function closedEndpoint(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, describeTimeout: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(describeTimeout())), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Starts `node dist/main.js` with exactly `env` on top of PATH/HOME. */
function spawnService(env: Record<string, string>): ServiceProcess {
  const proc = spawn(process.execPath, ["dist/main.js"], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<Exit>((resolveExit) => proc.once("exit", (code, signal) => resolveExit({ code, signal })));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const child: ServiceProcess = {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (running()) proc.kill("SIGTERM");
      const timer = setTimeout(() => running() && proc.kill("SIGKILL"), STOP_GRACE_MS);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** Starts the service and waits for its "dynauthn listening on" line. */
async function startProcess(env: Record<string, string>): Promise<ListeningProcess> {
  const child = spawnService(env);
  const listening = new Promise<string>((resolveUrl, reject) => {
    const onData = () => {
      const match = /dynauthn listening on (https?:\/\/(\S+?))\s/.exec(child.stdout());
      if (match) {
        child.proc.stdout!.off("data", onData);
        resolveUrl(match[1]!);
      }
    };
    child.proc.stdout!.on("data", onData);
    void child.exited.then((exit) =>
      reject(new Error(`exited before listening (${JSON.stringify(exit)}); stderr:\n${child.stderr()}`)),
    );
  });
  try {
    const baseUrl = await withTimeout(
      listening,
      LISTEN_DEADLINE_MS,
      () => `no "dynauthn listening on" within ${LISTEN_DEADLINE_MS} ms; stderr:\n${child.stderr()}`,
    );
    return { ...child, baseUrl, address: new URL(baseUrl).host };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** Runs the service to its end, for configurations that must refuse to start. */
async function runToExit(env: Record<string, string>): Promise<Exit & { stdout: string; stderr: string }> {
  const child = spawnService(env);
  try {
    const exit = await withTimeout(
      child.exited,
      EXIT_DEADLINE_MS,
      () => `still running after ${EXIT_DEADLINE_MS} ms; stdout:\n${child.stdout()}\nstderr:\n${child.stderr()}`,
    );
    return { ...exit, stdout: child.stdout(), stderr: child.stderr() };
  } finally {
    await child.stop(); // a no-op once it has exited
  }
}

/** A Connect unary call with the JSON codec over HTTP/1.1, as curl would make it. */
async function postJson(baseUrl: string, procedure: string, body: unknown) {
  const res = await fetch(`${baseUrl}/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

/** The google.rpc.ErrorInfo of a Connect JSON error body. */
function errorInfo(body: Record<string, unknown>) {
  const details = (body.details ?? []) as { type: string; value: string }[];
  const detail = details.find((d) => d.type === "google.rpc.ErrorInfo");
  expect(detail, `ErrorInfo in ${JSON.stringify(body)}`).toBeDefined();
  return fromBinary(ErrorInfoSchema, Buffer.from(detail!.value, "base64"));
}

function expectNoInternals(text: string): void {
  expect(text).not.toContain("    at ");
  expect(text).not.toContain("/work/");
  expect(text).not.toContain("node_modules");
}

function grpcError(call: Promise<unknown>): Promise<grpc.ServiceError> {
  return call.then(
    () => expect.fail("the call should have failed"),
    (err: grpc.ServiceError) => err,
  );
}

/** A service on the run's DynamoDB Local with fresh tables and the file's signing key. */
async function onDynamoDbLocal(): Promise<Record<string, string>> {
  return {
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
    TABLE_PREFIX: `proc${randomBytes(4).toString("hex")}-`,
    CREATE_TABLES: "true",
    SIGNING_KEY_FILE: signingKeyFile,
    SERVER_SECRETS_FILE: serverSecretsFile,
    LOG_LEVEL: "info",
  };
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  await promisify(execFile)("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, timeout: 110_000 });
  tmp = mkdtempSync(join(tmpdir(), "dynauthn-process-"));
  signingKeyPem = generateKeyPairSync("ec", { namedCurve: "P-256" })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
  signingKeyFile = join(tmp, "signing-key.pem");
  writeFileSync(signingKeyFile, signingKeyPem, { mode: 0o600 });
  serverSecretsFile = join(tmp, "server-secrets");
  writeFileSync(serverSecretsFile, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  await Promise.all([...children].map((child) => child.stop()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the service process on DynamoDB Local", () => {
  let svc: ListeningProcess;
  let health: grpc.Client;
  let auth: grpc.Client;

  beforeAll(async () => {
    // One transport limit set through its variable, to see the environment reach the port.
    svc = await startProcess({ ...(await onDynamoDbLocal()), HTTP_HEADERS_TIMEOUT_SECONDS: "1" });
    health = grpcJsClient(Health, svc.address);
    auth = grpcJsClient(AuthService, svc.address);
  });

  afterAll(async () => {
    health?.close();
    auth?.close();
    await svc?.stop();
  });

  it("answers a Connect JSON health check over HTTP/1.1", async () => {
    const res = await postJson(svc.baseUrl, "grpc.health.v1.Health/Check", {});
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: "SERVING" });
  });

  it("answers gRPC over HTTP/2 on the same port", async () => {
    const check = await unary<HealthCheckResponse>(health, "check", create(HealthCheckRequestSchema, {}));
    expect(check.status).toBe(Status.SERVING);

    const begin = await unary<BeginAuthenticationResponse>(
      auth,
      "beginAuthentication",
      create(BeginAuthenticationRequestSchema, {}),
    );
    const options = JSON.parse(begin.optionsJson) as { challenge?: unknown };
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{16,}$/);
  });

  it("returns INVALID_ARGUMENT with ErrorInfo and no internals over Connect", async () => {
    const res = await postJson(svc.baseUrl, "authn.v1.AuthService/FinishAuthentication", {
      credentialJson: "not json",
    });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe("invalid_argument");
    expect(errorInfo(res.json)).toMatchObject({ reason: "CREDENTIAL_MALFORMED", domain: "dynauthn.dev" });
    expectNoInternals(res.text);
  });

  it("returns INVALID_ARGUMENT with status details over gRPC", async () => {
    const err = await grpcError(
      unary(auth, "finishAuthentication", create(FinishAuthenticationRequestSchema, { credentialJson: "not json" })),
    );
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    const [details] = err.metadata.get("grpc-status-details-bin");
    expect(details).toBeInstanceOf(Buffer);
    expect((details as Buffer).toString("latin1")).toContain("google.rpc.ErrorInfo");
    expectNoInternals(err.details);
  });

  it("never logs credentials, session tokens or the signing key", async () => {
    const connect = createClient(
      AuthService,
      createConnectTransport({ baseUrl: svc.baseUrl, httpVersion: "1.1", useBinaryFormat: false }),
    );
    const authenticator = new SoftAuthenticator();
    const userId = `user-${randomBytes(4).toString("hex")}`;

    const reg = await connect.beginRegistration({ userId, userName: `${userId}@example.com` });
    const registration = authenticator.create(reg.optionsJson, ORIGIN);
    await connect.finishRegistration({ credentialJson: JSON.stringify(registration) });

    const begin = await connect.beginAuthentication({ userId });
    const assertion = authenticator.get(begin.optionsJson, ORIGIN);
    const signIn = await connect.finishAuthentication({ credentialJson: JSON.stringify(assertion) });
    expect(signIn.sessionToken).not.toBe("");

    // A refused credential is logged as "rpc refused": its value must stay out of that line too.
    const replayed = JSON.stringify(assertion);
    await expect(connect.finishAuthentication({ credentialJson: replayed })).rejects.toThrow();

    const logs = svc.stdout() + svc.stderr();
    expect(logs).toContain("rpc refused"); // the refusal above was logged, so the check below means something
    const secrets = [
      JSON.stringify(registration),
      registration.response.attestationObject,
      registration.response.clientDataJSON,
      replayed,
      assertion.response.signature,
      assertion.response.clientDataJSON,
      signIn.sessionToken,
      signingKeyPem.trim(),
      // Each base64 line of the PEM body, so no fragment of the key appears either.
      ...signingKeyPem.split("\n").filter((line) => line && !line.startsWith("-----")),
    ];
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });

  // Last: it ends the process this block shares. The clients above stay connected, as real ones
  // would. 10 s is well inside the default 20 s SHUTDOWN_GRACE_SECONDS, so a drain that waits out
  // the grace fails here.
  it("answers 408 and closes an HTTP/1.1 connection whose request head is still dripping after HTTP_HEADERS_TIMEOUT_SECONDS", async () => {
    const [host, port] = [svc.address.split(":")[0]!, Number(svc.address.split(":")[1])];
    const socket = connect(port, host);
    socket.on("error", () => {});
    socket.write("POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\n");
    const dripping = setInterval(() => socket.write("X-Drip: 1\r\n"), 200);
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    const closed = await withTimeout(new Promise((resolve) => socket.once("close", resolve)), 5000, () => "still open 5 s later").finally(() => clearInterval(dripping));
    expect(closed).toBe(false); // `close` reports hadError: none, the server ended it
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("drains and exits 0 on SIGTERM", async () => {
    svc.proc.kill("SIGTERM");
    const exit = await withTimeout(svc.exited, 10_000, () => `no exit 10 s after SIGTERM; stderr:\n${svc.stderr()}`);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});

describe("a tenants file", () => {
  let svc: ListeningProcess;
  let file: string;
  const tenant = (id: string) => `  - {id: ${id}, rpId: ${id}.example, rpName: ${id}, origins: [https://${id}.example]}\n`;
  const begin = (tenantId: string) =>
    postJson(svc.baseUrl, "authn.v1.AuthService/BeginRegistration", { tenant: tenantId, userId: "u", userName: "u" });

  beforeAll(async () => {
    file = join(tmp, "dynauthn.yaml");
    writeFileSync(file, `defaultTenant: acme\ntenants:\n${tenant("acme")}${tenant("globex")}`);
    svc = await startProcess({ ...(await onDynamoDbLocal()), DYNAUTHN_CONFIG_FILE: file, CONFIG_RELOAD_SECONDS: "1" });
  });
  afterAll(() => svc?.stop());

  it("serves each tenant's relying party, and an edited file without a restart; a bad edit keeps the last good one", async () => {
    expect(JSON.parse((await begin("globex")).json.optionsJson as string).rp.id).toBe("globex.example");
    expect(JSON.parse((await begin("")).json.optionsJson as string).rp.id).toBe("acme.example");
    expect(errorInfo((await begin("initech")).json).reason).toBe("TENANT_UNKNOWN");

    writeFileSync(file, `defaultTenant: acme\ntenants:\n${tenant("acme")}${tenant("globex")}${tenant("initech")}`);
    await vi.waitFor(() => expect(svc.stdout()).toContain('"event":"tenants_reloaded"'), { timeout: 10_000, interval: 200 });
    expect(JSON.parse((await begin("initech")).json.optionsJson as string).rp.id).toBe("initech.example");

    writeFileSync(file, `tenants:\n${tenant("acme")}${tenant("globex")}`); // two tenants, no defaultTenant
    await vi.waitFor(() => expect(svc.stdout()).toContain('"event":"tenants_reload_failed"'), { timeout: 10_000, interval: 200 });
    expect(svc.stdout()).toContain("defaultTenant: required when the file declares several tenants");
    expect((await begin("initech")).status).toBe(200);
  });
});

describe("the tenants file at start", () => {
  // A FIFO gives its content to one read only: a second read would wait for a writer forever.
  it("is read once", async () => {
    const fifo = join(tmp, "once.yaml");
    await promisify(execFile)("mkfifo", [fifo]);
    const writer = createWriteStream(fifo);
    writer.end("tenants: [{id: acme, rpId: acme.example, rpName: Acme, origins: [https://acme.example]}]\n");
    const svc = await startProcess({ ...(await onDynamoDbLocal()), DYNAUTHN_CONFIG_FILE: fifo, CONFIG_RELOAD_SECONDS: "0" });
    try {
      const begun = await postJson(svc.baseUrl, "authn.v1.AuthService/BeginRegistration", { userId: "u", userName: "u" });
      expect(JSON.parse(begun.json.optionsJson as string).rp.id).toBe("acme.example");
    } finally {
      writer.destroy();
      await svc.stop();
    }
  });
});

describe("invalid configuration", () => {
  const filesDir = mkdtempSync(join(tmpdir(), "dynauthn-tenants-"));
  afterAll(() => rmSync(filesDir, { recursive: true, force: true }));
  const tenantsFile = (name: string, text: string) => {
    writeFileSync(join(filesDir, name), text);
    return join(filesDir, name);
  };
  // Each case breaks one variable of an otherwise valid, store-less configuration (undefined: unset).
  const cases: { name: string; env: Record<string, string | undefined>; mentions: string }[] = [
    { name: "PORT=notaport", env: { PORT: "notaport" }, mentions: "PORT" },
    { name: "RP_ORIGINS=ftp://x", env: { RP_ORIGINS: "ftp://x" }, mentions: "RP_ORIGINS" },
    {
      name: "DYNAMODB_ENDPOINT without SIGNING_KEY_FILE",
      env: { SIGNING_KEY_FILE: undefined },
      mentions: "SIGNING_KEY_FILE",
    },
    {
      name: "DYNAMODB_ENDPOINT without SERVER_SECRETS_FILE",
      env: { SERVER_SECRETS_FILE: undefined },
      mentions: "SERVER_SECRETS_FILE",
    },
    {
      name: "SERVER_SECRETS_FILE too short a secret",
      env: { SERVER_SECRETS_FILE: tenantsFile("short-secret", "c2hvcnQ=") },
      mentions: "SERVER_SECRETS_FILE",
    },
    // The FIDO MDS BLOB is verified at start; one that cannot be read or verified stops the service.
    { name: "MDS_BLOB_FILE missing", env: { MDS_BLOB_FILE: "/nonexistent/mds-blob.jwt" }, mentions: "MDS_BLOB_FILE" },
    { name: "MDS_BLOB_FILE not a BLOB", env: { MDS_BLOB_FILE: fileURLToPath(import.meta.url) }, mentions: "MDS_BLOB_FILE" },
    { name: "a headers timeout above the request timeout", env: { HTTP_HEADERS_TIMEOUT_SECONDS: "60", HTTP_REQUEST_TIMEOUT_SECONDS: "30" }, mentions: "HTTP_HEADERS_TIMEOUT_SECONDS" },
    { name: "MDS_ROOT_CERT_FILE alone", env: { MDS_ROOT_CERT_FILE: "/etc/hostname" }, mentions: "MDS_ROOT_CERT_FILE" },
    {
      name: "a tenants file with a bad origin",
      env: { DYNAUTHN_CONFIG_FILE: tenantsFile("bad-origin.yaml", "tenants: [{id: acme, rpId: acme.example, rpName: Acme, origins: [https://acme.example/login]}]") },
      mentions: "origins",
    },
    {
      name: "a caller policy without TLS_CLIENT_CA_FILE",
      env: {
        DYNAUTHN_CONFIG_FILE: tenantsFile(
          "policy.yaml",
          "tenants: [{id: acme, rpId: acme.example, rpName: Acme, origins: [https://acme.example]}]\ncallers: {rules: [{identity: spiffe://a, methods: ['*'], tenants: ['*']}]}",
        ),
      },
      mentions: "TLS_CLIENT_CA_FILE",
    },
  ];

  it.each(cases)("$name: exits 1 naming $mentions", async ({ env, mentions }) => {
    const valid: Record<string, string | undefined> = {
      HOST: "127.0.0.1",
      PORT: String(await freePort()),
      DYNAMODB_ENDPOINT: await closedEndpoint(),
      SIGNING_KEY_FILE: signingKeyFile,
    SERVER_SECRETS_FILE: serverSecretsFile,
    };
    const set = (entry: [string, string | undefined]): entry is [string, string] => entry[1] !== undefined;
    const result = await runToExit(Object.fromEntries(Object.entries({ ...valid, ...env }).filter(set)));
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`\\b${mentions}\\b`));
    expect(result.stdout).not.toContain("dynauthn listening on");
  });
});

describe("store outage", () => {
  let svc: ListeningProcess;

  beforeAll(async () => {
    svc = await startProcess({
      PORT: String(await freePort()),
      HOST: "127.0.0.1",
      DYNAMODB_ENDPOINT: await closedEndpoint(),
      TABLE_PREFIX: `proc${randomBytes(4).toString("hex")}-`,
      CREATE_TABLES: "false",
      SIGNING_KEY_FILE: signingKeyFile,
    SERVER_SECRETS_FILE: serverSecretsFile,
      LOG_LEVEL: "info",
    });
  });

  afterAll(() => svc?.stop());

  it("starts without touching the store", async () => {
    const res = await postJson(svc.baseUrl, "grpc.health.v1.Health/Check", {});
    expect(res.json).toEqual({ status: "SERVING" });
  });

  it("begins a discoverable sign-in without the store: the challenge is sealed, nothing is written", async () => {
    const res = await postJson(svc.baseUrl, "authn.v1.AuthService/BeginAuthentication", {});
    expect(res.status).toBe(200);
    expect(JSON.parse(String(res.json.optionsJson)).challenge).toEqual(expect.any(String));
  });

  it("answers UNAVAILABLE / STORE_UNAVAILABLE within a bounded time and keeps serving", async () => {
    const started = Date.now();
    const res = await postJson(svc.baseUrl, "authn.v1.AuthService/BeginRegistration", { userId: "u1", userName: "u1" });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(res.status).toBe(503);
    expect(res.json.code).toBe("unavailable");
    expect(errorInfo(res.json)).toMatchObject({ reason: "STORE_UNAVAILABLE", domain: "dynauthn.dev" });
    expectNoInternals(res.text);

    expect(svc.proc.exitCode).toBeNull();
    const check = await postJson(svc.baseUrl, "grpc.health.v1.Health/Check", {});
    expect(check.json).toEqual({ status: "SERVING" });
  });
});

describe("FIDO MDS BLOB rollback (issue 13)", () => {
  it("a restart with a BLOB older than the one the service already used exits 1 naming MDS_BLOB_FILE", async () => {
    const pki = await mdsSigningPki();
    const rootFile = join(tmp, "mds-root.pem");
    writeFileSync(rootFile, pki.root.cert.toString());
    const blob = async (no: number) => {
      const file = join(tmp, `mds-${no}.jwt`);
      writeFileSync(file, await signBlob({ no, nextUpdate: "2060-01-01", entries: [] }, pki.signer, pki.chain));
      return file;
    };
    const env = { ...(await onDynamoDbLocal()), MDS_ROOT_CERT_FILE: rootFile, MDS_RELOAD_SECONDS: "0" };
    const current = await startProcess({ ...env, MDS_BLOB_FILE: await blob(10) });
    await current.stop();
    const restored = await runToExit({ ...env, PORT: String(await freePort()), MDS_BLOB_FILE: await blob(9) });
    expect(restored.code, restored.stderr).toBe(1);
    expect(restored.stderr).toMatch(/MDS_BLOB_FILE .*mds-9\.jwt: BLOB no 9 is older than no 10/);
    expect(restored.stdout).not.toContain("dynauthn listening on");
  });
});
