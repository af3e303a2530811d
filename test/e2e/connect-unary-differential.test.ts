/**
 * The Connect unary path (src/transport/connect-unary.ts) against connect-node, request for
 * request, on the real service: each case is sent over HTTP/1.1 and HTTP/2 once to the RPC's
 * path (the Connect unary path) and once to the same path with a query string, which the unary
 * path's exact lookup misses and connect-node serves (connect-node ignores a POST's query). Status,
 * every response field but Date and connection management, and the body must be equal; the
 * telemetry span of every call that reaches the pipeline names the path that served it, so each
 * case proves which path answered. The deliberate difference (the unary path answers at the
 * client's deadline) is tested in grpc-unary-path and listed with the others in docs/security.md.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import http2 from "node:http2";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { createContextValues } from "@connectrpc/connect";
import { validateUniversalHandlerOptions } from "@connectrpc/connect/protocol";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTelemetry } from "../../src/telemetry/sdk.js";

// Telemetry starts before the service's modules load: they are imported below.
const spans = new InMemorySpanExporter();
const telemetry = startTelemetry({ exportFromEnv: false, prometheus: undefined }, { spanProcessors: [new SimpleSpanProcessor(spans)], metricReaders: [] });
const { startTestService, ORIGIN } = await import("../support/service.js");
const { register } = await import("../support/ceremonies.js");
const { SoftAuthenticator } = await import("../support/soft-authenticator.js");
const { BeginAuthenticationRequestSchema, ListCredentialsRequestSchema } = await import("../../src/gen/authn/v1/auth_service_pb.js");
const { DEFAULT_MAX_REQUEST_BYTES } = await import("../../src/transport/request-size.js");
const { Health, HealthCheckResponse_ServingStatus } = await import("../../src/gen/grpc/health/v1/health_pb.js");
const { connectUnaryFirst } = await import("../../src/transport/connect-unary.js");
const { recordingUnaryMethods } = await import("../../src/transport/unary-methods.js");
type UnaryMethod = import("../../src/transport/unary-methods.js").UnaryMethod;

type Version = "1.1" | "2";
type Body = string | Buffer | { readonly chunks: readonly Buffer[] };

interface Outcome {
  readonly status: number | "reset";
  readonly fields: Record<string, string>;
  readonly body: string;
}

/** Response fields that are the HTTP server's own (the same server answers both paths), not the handler's. */
const SERVER_FIELDS = new Set(["date", "connection", "keep-alive", ":status"]);

function outcomeOf(status: number, headers: http.IncomingHttpHeaders, body: Buffer): Outcome {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!SERVER_FIELDS.has(name) && value !== undefined) fields[name] = String(value);
  return { status, fields, body: body.toString("base64") };
}

/** The server path each finished SERVER span names. */
const servedBy = () => spans.getFinishedSpans().flatMap((s) => (s.kind === SpanKind.SERVER ? [s.attributes["dynauthn.rpc.path"]] : []));

function bytesOf(body: Body): Buffer[] {
  return typeof body === "string" ? [Buffer.from(body)] : Buffer.isBuffer(body) ? [body] : [...body.chunks];
}

/** One POST; a body given as chunks is sent without a Content-Length (chunked on HTTP/1.1). */
function post(baseUrl: string, version: Version, path: string, headers: Record<string, string>, body: Body): Promise<Outcome> {
  const chunks = bytesOf(body);
  const length = typeof body === "object" && "chunks" in body ? {} : { "content-length": String(Buffer.concat(chunks).length) };
  if (version === "1.1") {
    return new Promise((resolve) => {
      const req = http.request(`${baseUrl}${path}`, { method: "POST", agent: false, headers: { ...length, ...headers } }, (res) => {
        const got: Buffer[] = [];
        res.on("data", (c: Buffer) => got.push(c)).on("end", () => resolve(outcomeOf(res.statusCode!, res.headers, Buffer.concat(got))));
        res.on("error", () => resolve({ status: "reset", fields: {}, body: "" }));
      });
      req.on("error", () => resolve({ status: "reset", fields: {}, body: "" }));
      for (const c of chunks) req.write(c);
      req.end();
    });
  }
  const session = http2.connect(baseUrl);
  session.on("error", () => {});
  return new Promise<Outcome>((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...length, ...headers });
    let response: http2.IncomingHttpHeaders = {};
    const got: Buffer[] = [];
    stream.on("response", (h) => (response = h));
    stream.on("data", (c: Buffer) => got.push(c));
    stream.on("error", () => {});
    stream.on("close", () =>
      resolve(response[":status"] === undefined ? { status: "reset", fields: {}, body: "" } : outcomeOf(Number(response[":status"]), response, Buffer.concat(got))),
    );
    for (const c of chunks) stream.write(c);
    stream.end();
  }).finally(() => session.close());
}

const JSON_TYPE = { "content-type": "application/json" };
const PROTO_TYPE = { "content-type": "application/proto" };
const BEGIN_AUTH = "/authn.v1.AuthService/BeginAuthentication";
const FINISH_AUTH = "/authn.v1.AuthService/FinishAuthentication";
const LIST = "/authn.v1.AuthService/ListCredentials";
const REVOKE = "/authn.v1.AuthService/RevokeCredential";
const HEALTH = "/grpc.health.v1.Health/Check";
const USER = "differential";
/** A user with passkeys enough for a ListCredentials answer above connect's compressMinBytes (1 KiB). */
const MANY = "many-passkeys";
const OVERSIZE = DEFAULT_MAX_REQUEST_BYTES + 1;

interface Case {
  readonly name: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Body;
  /** What the fast path must answer (status, and the Connect error code when it fails). */
  readonly expected: { readonly status: number; readonly code?: string };
  /** Whether the answer comes compressed (content-encoding), as connect-node compresses from 1 KiB. */
  readonly compressed?: "gzip";
  /** Whether the call reaches the pipeline (and so has a span naming its path). */
  readonly reachesPipeline: boolean;
}

const gzipBomb = gzipSync(Buffer.from(JSON.stringify({ userId: "x".repeat(OVERSIZE) })));
const beginBinary = Buffer.from(toBinary(BeginAuthenticationRequestSchema, create(BeginAuthenticationRequestSchema, { userId: "nobody-here" })));
const listBinary = Buffer.from(toBinary(ListCredentialsRequestSchema, create(ListCredentialsRequestSchema, { userId: "nobody-here" })));

const CASES: Case[] = [
  // Successes (deterministic answers: health, an empty credential list).
  { name: "health, JSON", path: HEALTH, headers: JSON_TYPE, body: "{}", expected: { status: 200 }, reachesPipeline: true },
  { name: "health, binary", path: HEALTH, headers: PROTO_TYPE, body: Buffer.alloc(0), expected: { status: 200 }, reachesPipeline: true },
  { name: "list, JSON", path: LIST, headers: JSON_TYPE, body: JSON.stringify({ userId: "nobody-here" }), expected: { status: 200 }, reachesPipeline: true },
  // Charset and case variants connect accepts.
  ...["application/json; charset=utf-8", "application/json;charset=UTF-8", "application/json; charset=utf8", "Application/JSON", "APPLICATION/PROTO"].map(
    (type): Case => ({ name: `content type ${type}`, path: HEALTH, headers: { "content-type": type }, body: type.toLowerCase().includes("json") ? "{}" : "", expected: { status: 200 }, reachesPipeline: true }),
  ),
  // Service errors, each class, with ErrorInfo (and BrowserSignal) details.
  { name: "INVALID_ARGUMENT (malformed credential)", path: FINISH_AUTH, headers: JSON_TYPE, body: JSON.stringify({ credentialJson: "{}" }), expected: { status: 400, code: "invalid_argument" }, reachesPipeline: true },
  { name: "INVALID_ARGUMENT (missing user id)", path: LIST, headers: JSON_TYPE, body: "{}", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: true },
  { name: "INVALID_ARGUMENT (unknown tenant)", path: LIST, headers: JSON_TYPE, body: JSON.stringify({ tenant: "nope", userId: "u" }), expected: { status: 400, code: "invalid_argument" }, reachesPipeline: true },
  { name: "NOT_FOUND (unknown credential)", path: REVOKE, headers: JSON_TYPE, body: JSON.stringify({ userId: USER, credentialId: "AAAAAAAAAAAAAAAAAAAAAA" }), expected: { status: 404, code: "not_found" }, reachesPipeline: true },
  // Malformed input.
  { name: "bad JSON", path: BEGIN_AUTH, headers: JSON_TYPE, body: "{", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "empty JSON body", path: BEGIN_AUTH, headers: JSON_TYPE, body: "", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "JSON null", path: HEALTH, headers: JSON_TYPE, body: "null", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "JSON array", path: BEGIN_AUTH, headers: JSON_TYPE, body: "[]", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "unknown JSON fields (ignored)", path: HEALTH, headers: JSON_TYPE, body: JSON.stringify({ service: "", extra: 1, __proto__x: {} }), expected: { status: 200 }, reachesPipeline: true },
  { name: "wrong JSON types", path: BEGIN_AUTH, headers: JSON_TYPE, body: JSON.stringify({ userId: 5 }), expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "trailing bytes after JSON", path: HEALTH, headers: JSON_TYPE, body: "{} x", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "invalid UTF-8 in a JSON string", path: LIST, headers: JSON_TYPE, body: Buffer.concat([Buffer.from('{"userId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), expected: { status: 200 }, reachesPipeline: true },
  { name: "deeply nested JSON", path: HEALTH, headers: JSON_TYPE, body: "[".repeat(5000) + "]".repeat(5000), expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "binary that is no protobuf", path: BEGIN_AUTH, headers: PROTO_TYPE, body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a]), expected: { status: 500, code: "internal" }, reachesPipeline: false },
  { name: "binary with trailing bytes", path: BEGIN_AUTH, headers: PROTO_TYPE, body: Buffer.concat([beginBinary, Buffer.from([0x0a])]), expected: { status: 500, code: "internal" }, reachesPipeline: false },
  { name: "binary request", path: LIST, headers: PROTO_TYPE, body: listBinary, expected: { status: 200 }, reachesPipeline: true },
  // Size limits, before and after decompression.
  { name: "Content-Length above readMaxBytes", path: BEGIN_AUTH, headers: JSON_TYPE, body: Buffer.alloc(OVERSIZE, 0x20), expected: { status: 429, code: "resource_exhausted" }, reachesPipeline: false },
  { name: "no Content-Length, body above readMaxBytes", path: BEGIN_AUTH, headers: JSON_TYPE, body: { chunks: [Buffer.alloc(OVERSIZE, 0x20)] }, expected: { status: 429, code: "resource_exhausted" }, reachesPipeline: false },
  { name: "no Content-Length, small body", path: HEALTH, headers: JSON_TYPE, body: { chunks: [Buffer.from("{"), Buffer.from("}")] }, expected: { status: 200 }, reachesPipeline: true },
  { name: "gzip bomb (above readMaxBytes decompressed)", path: BEGIN_AUTH, headers: { ...JSON_TYPE, "content-encoding": "gzip" }, body: gzipBomb, expected: { status: 429, code: "resource_exhausted" }, reachesPipeline: false },
  // Compression.
  { name: "gzip request", path: HEALTH, headers: { ...JSON_TYPE, "content-encoding": "gzip" }, body: gzipSync("{}"), expected: { status: 200 }, reachesPipeline: true },
  { name: "gzip that is no gzip", path: HEALTH, headers: { ...JSON_TYPE, "content-encoding": "gzip" }, body: "{}", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "empty gzip body", path: BEGIN_AUTH, headers: { ...JSON_TYPE, "content-encoding": "gzip" }, body: "", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "unknown content encoding", path: HEALTH, headers: { ...JSON_TYPE, "content-encoding": "snappy" }, body: "{}", expected: { status: 501, code: "unimplemented" }, reachesPipeline: false },
  { name: "identity content encoding", path: HEALTH, headers: { ...JSON_TYPE, "content-encoding": "identity" }, body: "{}", expected: { status: 200 }, reachesPipeline: true },
  { name: "accept-encoding gzip, small answer (not compressed)", path: HEALTH, headers: { ...JSON_TYPE, "accept-encoding": "gzip" }, body: "{}", expected: { status: 200 }, reachesPipeline: true },
  { name: "accept-encoding gzip, an answer above compressMinBytes (compressed)", path: LIST, headers: { ...JSON_TYPE, "accept-encoding": "gzip" }, body: JSON.stringify({ userId: MANY }), expected: { status: 200 }, compressed: "gzip", reachesPipeline: true },
  { name: "accept-encoding br, error answer", path: BEGIN_AUTH, headers: { ...JSON_TYPE, "accept-encoding": "snappy, br" }, body: "{", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  // Timeout and protocol version headers.
  { name: "connect-timeout-ms not a number", path: HEALTH, headers: { ...JSON_TYPE, "connect-timeout-ms": "soon" }, body: "{}", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "connect-timeout-ms negative", path: HEALTH, headers: { ...JSON_TYPE, "connect-timeout-ms": "-1" }, body: "{}", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "connect-timeout-ms 11 digits", path: HEALTH, headers: { ...JSON_TYPE, "connect-timeout-ms": "12345678901" }, body: "{}", expected: { status: 400, code: "invalid_argument" }, reachesPipeline: false },
  { name: "connect-timeout-ms generous", path: HEALTH, headers: { ...JSON_TYPE, "connect-timeout-ms": "60000" }, body: "{}", expected: { status: 200 }, reachesPipeline: true },
  { name: "connect-protocol-version 2 (not required: ignored)", path: HEALTH, headers: { ...JSON_TYPE, "connect-protocol-version": "2" }, body: "{}", expected: { status: 200 }, reachesPipeline: true },
];

/** The reasons and details of a Connect error body, or the body itself. */
function readable(o: Outcome): unknown {
  const bytes = Buffer.from(o.body, "base64");
  const text = (o.fields["content-encoding"] === "gzip" ? gunzipSync(bytes) : bytes).toString();
  return o.fields["content-type"] === "application/json" ? JSON.parse(text || "null") : o.body;
}

describe.each(["1.1", "2"] as const)("Connect unary path vs connect-node over HTTP/%s", (version) => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const authenticator = new SoftAuthenticator();

  beforeAll(async () => {
    svc = await startTestService();
    await register(svc, authenticator, USER);
    for (let i = 0; i < 6; i++) await register(svc, new SoftAuthenticator(), MANY);
  }, 30_000);
  afterAll(() => svc?.close());

  it.each(CASES.map((c) => [c.name, c] as const))("%s: the same answer on both paths", async (_name, c) => {
    spans.reset();
    const fast = await post(svc.baseUrl, version, c.path, c.headers, c.body);
    const fastSpans = servedBy();
    spans.reset();
    const slow = await post(svc.baseUrl, version, `${c.path}?via=connect-node`, c.headers, c.body);
    const slowSpans = servedBy();
    expect(fastSpans).toEqual(c.reachesPipeline ? ["connect_unary"] : []);
    expect(slowSpans).toEqual(c.reachesPipeline ? ["connect_node"] : []);
    expect(fast.fields["content-encoding"]).toBe(c.compressed);
    expect({ status: fast.status, code: (readable(fast) as { code?: string } | null)?.code }).toEqual({ status: c.expected.status, code: c.expected.code });
    expect({ ...fast, body: readable(fast) }).toEqual({ ...slow, body: readable(slow) });
  });

  it("a BrowserSignal detail (unknown credential) and a successful sign-in: the same fields and shape", async () => {
    const signIn = async (path: string) => {
      const begin = await svc.connect.beginAuthentication({ userId: USER });
      const credentialJson = JSON.stringify(authenticator.get(begin.optionsJson, ORIGIN));
      return post(svc.baseUrl, version, path, JSON_TYPE, JSON.stringify({ credentialJson }));
    };
    const [fast, slow] = [await signIn(FINISH_AUTH), await signIn(`${FINISH_AUTH}?via=connect-node`)];
    expect(fast.status).toBe(200);
    const shape = (o: Outcome) => ({ status: o.status, fields: { ...o.fields, "content-length": "…" }, keys: Object.keys(readable(o) as object).sort() });
    expect(shape(fast)).toEqual(shape(slow));

    const unknown = async (path: string) => {
      const begin = await svc.connect.beginAuthentication({ userId: USER });
      const credential = { ...authenticator.get(begin.optionsJson, ORIGIN), id: "AAAAAAAAAAAAAAAAAAAAAA", rawId: "AAAAAAAAAAAAAAAAAAAAAA" };
      return post(svc.baseUrl, version, path, JSON_TYPE, JSON.stringify({ credentialJson: JSON.stringify(credential) }));
    };
    const [fastErr, slowErr] = [await unknown(FINISH_AUTH), await unknown(`${FINISH_AUTH}?via=connect-node`)];
    const error = readable(fastErr) as { code: string; details: { type: string }[] };
    expect([fastErr.status, error.code, error.details.map((d) => d.type)]).toEqual([401, "unauthenticated", ["google.rpc.ErrorInfo", "authn.v1.BrowserSignal"]]);
    expect({ ...fastErr, body: error }).toEqual({ ...slowErr, body: readable(slowErr) });
  });
});

/**
 * The same comparison on a server built as server.ts builds it but with connect-node options the
 * service does not set, to show that the unary path follows connect-node's configuration:
 * `requireConnectProtocolHeader` and a small readMaxBytes.
 */
describe("configured as connect-node is: requireConnectProtocolHeader, readMaxBytes 1024", () => {
  let server: http.Server;
  let baseUrl: string;

  beforeAll(async () => {
    const protocolOptions = { readMaxBytes: 1024, requireConnectProtocolHeader: true, acceptCompression: [] };
    const handlerOptions = validateUniversalHandlerOptions(protocolOptions);
    const methods = new Map<string, UnaryMethod>();
    const connectNode = connectNodeAdapter({
      ...protocolOptions,
      routes: (router) => recordingUnaryMethods(router, methods, handlerOptions).service(Health, { check: () => ({ status: HealthCheckResponse_ServingStatus.SERVING }) }),
    });
    const handler = connectUnaryFirst({ methods, pipeline: (_call, next) => next(), handlerOptions, contextValues: () => createContextValues() }, connectNode);
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  it.each([
    ["no connect-protocol-version", {}, 400],
    ["connect-protocol-version 2", { "connect-protocol-version": "2" }, 400],
    ["connect-protocol-version 1", { "connect-protocol-version": "1" }, 200],
  ] as const)("%s: the same answer on both paths", async (_name, version, status) => {
    const fast = await post(baseUrl, "1.1", HEALTH, { ...JSON_TYPE, ...version }, "{}");
    const slow = await post(baseUrl, "1.1", `${HEALTH}?via=connect-node`, { ...JSON_TYPE, ...version }, "{}");
    expect(fast.status).toBe(status);
    expect({ ...fast, body: readable(fast) }).toEqual({ ...slow, body: readable(slow) });
  });

  it("a body that outgrows readMaxBytes while the client is still sending it: 429 at once on both paths", async () => {
    /** Sends 1200 bytes without a Content-Length and never ends the request; the answer must come anyway. */
    const unfinished = (path: string) =>
      new Promise<Outcome>((resolve, reject) => {
        const req = http.request(`${baseUrl}${path}`, { method: "POST", agent: false, headers: { ...JSON_TYPE, "connect-protocol-version": "1" } }, (res) => {
          const got: Buffer[] = [];
          res.on("data", (c: Buffer) => got.push(c)).on("end", () => {
            resolve(outcomeOf(res.statusCode!, res.headers, Buffer.concat(got)));
            req.destroy();
          });
        });
        req.on("error", reject);
        req.write(Buffer.alloc(1200, 0x20));
      });
    const fast = await unfinished(HEALTH);
    expect([fast.status, (readable(fast) as { code: string }).code]).toEqual([429, "resource_exhausted"]);
    expect(fast).toEqual(await unfinished(`${HEALTH}?via=connect-node`));
  });

  it("a body above readMaxBytes without a Content-Length: the same answer on both paths", async () => {
    const headers = { ...JSON_TYPE, "connect-protocol-version": "1" };
    const body = { chunks: [Buffer.alloc(600, 0x20), Buffer.alloc(600, 0x20)] };
    const fast = await post(baseUrl, "1.1", HEALTH, headers, body);
    expect([fast.status, (readable(fast) as { code: string }).code]).toEqual([429, "resource_exhausted"]);
    expect(fast).toEqual(await post(baseUrl, "1.1", `${HEALTH}?via=connect-node`, headers, body));
  });
});

afterAll(() => telemetry?.shutdown());
