/**
 * The three server paths on the one port (src/transport/server.ts): gRPC unary calls over HTTP/2
 * on the gRPC unary path (grpc-unary.ts), Connect unary POSTs over HTTP/1.1 and HTTP/2 on the
 * Connect unary path (connect-unary.ts), everything else on connect-node. Each rule the service
 * relies on is checked on every path with the same handlers and the product's error stage: which
 * path served a call is what the pipeline's Call says (it is exported as `dynauthn.rpc.path`).
 */
import http2 from "node:http2";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthError } from "../../src/errors.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus as Serving } from "../../src/gen/grpc/health/v1/health_pb.js";
import { createLogger } from "../../src/logger.js";
import { type Call, callPipeline, type ServerPath } from "../../src/rpc/call-pipeline.js";
import { errorStage } from "../../src/rpc/error-stage.js";
import { DEFAULT_TRANSPORT_LIMITS } from "../../src/server-limits/transport-limits.js";
import { type RunningServer, startServer } from "../../src/transport/server.js";
import { FLAG, FRAME, frame, headerBlock, PREFACE } from "../support/raw-http2.js";
import { until } from "../support/until.js";

const READ_MAX_BYTES = 1024;

/** What the handlers saw: the calls the pipeline ran, and why each waiting handler's signal aborted. */
const calls: Call[] = [];
const aborts = new Map<string, unknown>();
const entered = new Map<string, () => void>();

/** Health/Check and Watch with behaviours chosen by the request's `service` field. */
function routes(router: ConnectRouter): void {
  router.service(Health, {
    async check(req, ctx) {
      const [behaviour, id = ""] = req.service.split(":");
      switch (behaviour) {
        case "headers":
          ctx.responseHeader.set("x-from-handler", "header");
          ctx.responseTrailer.set("x-from-handler-trailer", "trailer");
          return { status: Serving.SERVING };
        case "slow":
          await new Promise((resolve) => setTimeout(resolve, 50));
          return { status: Serving.SERVING };
        case "refuse":
          throw new AuthError("CALLER_NOT_ALLOWED", "caller not allowed: test");
        case "crash":
          throw new TypeError("secret detail at /work/src/x.ts:1");
        case "wait":
          await new Promise<void>((resolve) => {
            entered.get(id)?.();
            ctx.signal.addEventListener("abort", () => resolve());
          });
          aborts.set(id, ctx.signal.reason);
          return { status: Serving.NOT_SERVING };
        default:
          return { status: Serving.SERVING };
      }
    },
    async *watch(req, ctx) {
      yield { status: Serving.SERVING };
      await new Promise<void>((resolve) => {
        entered.get(req.service)?.();
        ctx.signal.addEventListener("abort", () => resolve());
      });
      aborts.set(req.service, ctx.signal.reason);
    },
  });
}

/** Each protocol, the path it should take, and its deadline header for 200 ms (sent without a client-side timer). */
const PATHS: [string, (baseUrl: string) => Transport, ServerPath, Record<string, string>][] = [
  ["gRPC over HTTP/2", (baseUrl) => createGrpcTransport({ baseUrl }), "grpc_unary", { "grpc-timeout": "200m" }],
  ["gRPC-Web over HTTP/2", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "2" }), "connect_node", { "grpc-timeout": "200m" }],
  ["Connect binary over HTTP/2", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }), "connect_unary", { "connect-timeout-ms": "200" }],
  ["Connect JSON over HTTP/2", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2" }), "connect_unary", { "connect-timeout-ms": "200" }],
  ["Connect JSON over HTTP/1.1", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }), "connect_unary", { "connect-timeout-ms": "200" }],
  ["Connect binary over HTTP/1.1", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }), "connect_unary", { "connect-timeout-ms": "200" }],
];

let server: RunningServer;
let baseUrl: string;

beforeAll(async () => {
  const recording = async <T>(call: Call, next: () => Promise<T>) => {
    calls.push(call);
    return next();
  };
  server = await startServer(
    { routes, pipeline: callPipeline(recording, errorStage(createLogger("silent"))), readMaxBytes: READ_MAX_BYTES, limits: DEFAULT_TRANSPORT_LIMITS },
    0,
    "127.0.0.1",
  );
  baseUrl = `http://127.0.0.1:${server.address.port}`;
});
afterAll(() => server?.close(0));

/** A handler named `id` has started waiting on its signal. */
function handlerEntered(id: string): Promise<void> {
  return new Promise((resolve) => entered.set(id, resolve));
}


describe.each(PATHS)("%s", (name, transportOf, path, deadline) => {
  const health = () => createClient(Health, transportOf(baseUrl));
  const failure = (call: Promise<unknown>) => call.then(() => expect.fail("the call should fail"), (e: unknown) => ConnectError.from(e));

  it(`is served on the ${path} path, through the call pipeline, with the handler's response header and trailer`, async () => {
    const header = new Headers();
    const trailer = new Headers();
    const res = await health().check({ service: "headers" }, { onHeader: (h) => h.forEach((v, k) => header.set(k, v)), onTrailer: (t) => t.forEach((v, k) => trailer.set(k, v)) });
    expect(res.status).toBe(Serving.SERVING);
    expect(calls.at(-1)).toMatchObject({ path, grpc: !name.startsWith("Connect"), unary: { message: { service: "headers" } } });
    expect(header.get("x-from-handler")).toBe("header");
    expect(trailer.get("x-from-handler-trailer")).toBe("trailer");
  });

  it("maps a refusal to its code with google.rpc.ErrorInfo, and an unexpected error to a bare INTERNAL", async () => {
    const refused = await failure(health().check({ service: "refuse" }));
    expect([refused.code, refused.rawMessage]).toEqual([Code.PermissionDenied, "caller not allowed: test"]);
    expect(refused.findDetails(ErrorInfoSchema)[0]).toMatchObject({ reason: "CALLER_NOT_ALLOWED", domain: "dynauthn.dev" });
    const crashed = await failure(health().check({ service: "crash" }));
    expect([crashed.code, crashed.rawMessage]).toEqual([Code.Internal, "internal error"]);
    expect(crashed.findDetails(ErrorInfoSchema)[0]).toMatchObject({ reason: "INTERNAL" });
  });

  it("a client's cancellation aborts the handler's signal", async () => {
    const id = `cancel-${path}-${name.length}`;
    const abort = new AbortController();
    const started = handlerEntered(id);
    const pending = failure(health().check({ service: `wait:${id}` }, { signal: abort.signal }));
    await started;
    abort.abort();
    expect((await pending).code).toBe(Code.Canceled);
    await until(() => (aborts.has(id) ? true : undefined), 5_000);
  });

  it("the deadline the client sends aborts the handler's signal with DEADLINE_EXCEEDED", async () => {
    const id = `deadline-${path}-${name.length}`;
    const outcome = health().check({ service: `wait:${id}` }, { headers: deadline }).catch((e: unknown) => ConnectError.from(e));
    const reason = await until(() => aborts.get(id), 5_000);
    expect(ConnectError.from(reason).code).toBe(Code.DeadlineExceeded);
    // The unary paths answer at the deadline; connect-node answers with what the handler returns.
    if (path !== "connect_node") expect((await outcome as ConnectError).code).toBe(Code.DeadlineExceeded);
    else await outcome;
  });

  it("a message above readMaxBytes is RESOURCE_EXHAUSTED before the pipeline or any handler runs", async () => {
    const before = calls.length;
    const err = await failure(health().check({ service: "x".repeat(READ_MAX_BYTES + 1) }));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(calls.length).toBe(before);
  });
});

describe("gRPC over HTTP/2, frame by frame", () => {
  /** One raw gRPC call: its response headers, body and trailers (or a stream reset). */
  async function grpcCall(
    path: string,
    body: Buffer[],
    headers: http2.OutgoingHttpHeaders = {},
  ): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: Buffer; rstCode: number | undefined }> {
    const session = http2.connect(baseUrl);
    try {
      return await new Promise((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
        let response: http2.IncomingHttpHeaders = {};
        let trailers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on("response", (h) => (response = h));
        stream.on("trailers", (t) => (trailers = t));
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("error", reject);
        stream.on("close", () => resolve({ headers: response, trailers, body: Buffer.concat(chunks), rstCode: stream.rstCode === 0 ? undefined : stream.rstCode }));
        for (const b of body) stream.write(b);
        stream.end();
      });
    } finally {
      session.close();
    }
  }
  const CHECK = "/grpc.health.v1.Health/Check";
  const envelope = (flags: number, data: Uint8Array) => {
    const head = Buffer.alloc(5);
    head[0] = flags;
    head.writeUInt32BE(data.length, 1);
    return Buffer.concat([head, data]);
  };
  const request = (service: string) => toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service }));
  const status = (r: { headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }) => Number(r.trailers["grpc-status"] ?? r.headers["grpc-status"]);

  it("a gzip-compressed request is decompressed and served on the unary path", async () => {
    const r = await grpcCall(CHECK, [envelope(1, gzipSync(request("")))], { "grpc-encoding": "gzip" });
    expect(status(r)).toBe(0);
    expect(calls.at(-1)?.path).toBe("grpc_unary");
  });

  it("an unsupported grpc-encoding is UNIMPLEMENTED, naming the encodings accepted in grpc-accept-encoding", async () => {
    const r = await grpcCall(CHECK, [envelope(1, request(""))], { "grpc-encoding": "snappy" });
    expect(status(r)).toBe(Code.Unimplemented);
    expect(r.trailers["grpc-accept-encoding"] ?? r.headers["grpc-accept-encoding"]).toBe("gzip,br");
  });

  it("a compressed flag without a grpc-encoding is refused, not read as a message", async () => {
    const r = await grpcCall(CHECK, [envelope(1, request(""))]);
    expect(status(r)).toBe(Code.Internal);
  });

  it("no message, a second message and a cut-off message are refused before the pipeline runs", async () => {
    const before = calls.length;
    expect(status(await grpcCall(CHECK, []))).toBe(Code.Unimplemented);
    expect(status(await grpcCall(CHECK, [envelope(0, request("")), envelope(0, request(""))]))).toBe(Code.Unimplemented);
    expect(status(await grpcCall(CHECK, [envelope(0, request("x")).subarray(0, 7)]))).toBe(Code.InvalidArgument);
    expect(calls.length).toBe(before);
  });

  it("a message that is no protobuf is refused as connect-node refuses it, before the pipeline runs, leaking nothing", async () => {
    const before = calls.length;
    const r = await grpcCall(CHECK, [envelope(0, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a]))]);
    expect(status(r)).toBe(Code.Internal);
    expect(decodeURIComponent(String(r.trailers["grpc-message"]))).toMatch(/^parse binary: /);
    expect(String(r.trailers["grpc-message"])).not.toMatch(/\bat \S+ \(|\/work\/|node_modules|\.[tj]s:\d+/);
    expect(calls.length).toBe(before);
  });

  it("a deadline beyond what a timer holds (grpc-timeout 99999999S, ≈ 3 years) is no deadline, not an immediate one", async () => {
    expect(status(await grpcCall(CHECK, [envelope(0, request("slow"))], { "grpc-timeout": "99999999S" }))).toBe(0);
  });

  it("a malformed grpc-timeout is INVALID_ARGUMENT", async () => {
    expect(status(await grpcCall(CHECK, [envelope(0, request(""))], { "grpc-timeout": "soon" }))).toBe(Code.InvalidArgument);
  });

  it("an announced length above readMaxBytes is refused at once, without waiting for the message", async () => {
    const prefix = Buffer.from([0, 0, 0x10, 0, 0]); // announces 1 MiB, sends 5 bytes and keeps the stream open
    const session = http2.connect(baseUrl);
    const stream = session.request({ ":method": "POST", ":path": CHECK, "content-type": "application/grpc", te: "trailers" });
    stream.write(prefix);
    const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.on("trailers", resolve).resume());
    session.destroy();
    expect(Number(trailers["grpc-status"])).toBe(Code.ResourceExhausted);
  });

  it("a streaming call (Watch) is served by connect-node, and a reset stream aborts its handler's signal", async () => {
    const id = "watch-reset";
    const started = handlerEntered(id);
    const session = http2.connect(baseUrl);
    const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Watch", "content-type": "application/grpc", te: "trailers" });
    stream.on("error", () => {});
    stream.end(envelope(0, request(id)));
    await started;
    expect(calls.at(-1)).toMatchObject({ path: "connect_node", unary: undefined });
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => (aborts.has(id) ? true : undefined), 5_000);
    session.close();
  });
});

describe("a request without an authority (connect-node threw for it, outside any handler)", () => {
  /** Writes `request` on a fresh connection and collects what comes back until `done` says so or the server closes. */
  function exchange(request: Buffer, done: (got: Buffer) => boolean = () => false): Promise<Buffer> {
    return new Promise((resolve) => {
      const socket = net.connect(server.address.port, "127.0.0.1", () => socket.write(request));
      let got = Buffer.alloc(0);
      const finish = () => {
        socket.destroy();
        resolve(got);
      };
      socket.on("data", (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (done(got)) finish();
      });
      socket.on("close", finish).on("error", () => {});
    });
  }

  it.each(["application/grpc-web+proto", "application/json", "application/connect+json"])("HTTP/1.0 without Host, %s: 400, and the server keeps serving", async (type) => {
    const response = await exchange(Buffer.from(`POST /grpc.health.v1.Health/Check HTTP/1.0\r\ncontent-type: ${type}\r\ncontent-length: 2\r\n\r\n{}`));
    expect(response.toString("latin1")).toMatch(/^HTTP\/1\.1 400 /);
    await expect(createClient(Health, createConnectTransport({ baseUrl, httpVersion: "1.1" })).check({})).resolves.toMatchObject({ status: Serving.SERVING });
  });

  /**
   * Sends one HTTP/2 request (stream 1) from raw frames: its answer's first HPACK byte (the indexed
   * :status), or -1 for a reset stream. Each frame is a 9-byte header and its payload; the
   * server's SETTINGS come first.
   */
  async function h2Answer(fields: Record<string, string>): Promise<number | undefined> {
    const request = Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0), frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, headerBlock(fields))]);
    let status: number | undefined;
    await exchange(request, (got) => {
      for (let at = 0; at + 9 <= got.length; at += 9 + got.readUIntBE(at, 3)) {
        if (got[at + 3] === FRAME.HEADERS && got.readUInt32BE(at + 5) === 1) status = got[at + 9];
        if (got[at + 3] === FRAME.RST_STREAM) status = -1;
      }
      return status !== undefined;
    });
    return status;
  }

  const headersEnd = (got: Buffer) => got.includes("\r\n\r\n");
  const keepsServing = () => expect(createClient(Health, createConnectTransport({ baseUrl, httpVersion: "1.1" })).check({})).resolves.toMatchObject({ status: Serving.SERVING });
  const NO_URL_HOSTS = ["[", "%", "a b", "", "a:b:c", "@", "\\"];
  const TO_CONNECT_NODE = ["POST /grpc.health.v1.Health/Check?x", "GET /grpc.health.v1.Health/Check", "POST /grpc.health.v1.Health/Check"];

  it.each(NO_URL_HOSTS.flatMap((host) => TO_CONNECT_NODE.map((line) => [host, line])))(
    "HTTP/1.1 with a Host that makes no URL (%j), %s: 400, and the server keeps serving",
    async (host, line) => {
      const type = line.startsWith("POST /grpc.health.v1.Health/Check?") ? "application/json" : "application/grpc-web+proto";
      const response = await exchange(Buffer.from(`${line} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: ${type}\r\ncontent-length: 2\r\n\r\n{}`), headersEnd);
      expect(response.toString("latin1")).toMatch(/^HTTP\/1\.1 400 /);
      await keepsServing();
    },
  );

  it("HTTP/1.1 with an absolute request target that makes no URL: 400, and the server keeps serving", async () => {
    const response = await exchange(Buffer.from(`POST http://[/grpc.health.v1.Health/Check HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/grpc-web+proto\r\ncontent-length: 2\r\n\r\n{}`), headersEnd);
    expect(response.toString("latin1")).toMatch(/^HTTP\/1\.1 400 /);
    await keepsServing();
  });

  it.each(["%", "[", "a:b:c"])("HTTP/2 with an :authority that makes no URL (%j): 400, and the server keeps serving", async (authority) => {
    const status = await h2Answer({ ":method": "POST", ":scheme": "http", ":authority": authority, ":path": "/grpc.health.v1.Health/Check?x", "content-type": "application/grpc-web+proto" });
    expect(status).toBe(0x80 | 12); // HPACK's static entry 12 is ":status 400"; nghttp2 sends it indexed
    await keepsServing();
  });

  it("Connect over HTTP/2: a body refused for its size is read no further, so flow control stops the client", async () => {
    const session = http2.connect(baseUrl);
    const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/json" });
    let status: number | undefined;
    stream.on("response", (headers) => (status = Number(headers[":status"]))).on("error", () => {});
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const sendUntil = Date.now() + 1500;
    await new Promise<void>((resolve) => {
      const stop = setTimeout(resolve, 1700);
      const pump = () => {
        while (Date.now() < sendUntil) if (!stream.write(chunk, () => (sent += chunk.length))) return void stream.once("drain", pump);
        clearTimeout(stop);
        resolve();
      };
      pump();
    });
    session.destroy();
    expect(status).toBe(429);
    // What the windows and socket buffers hold, not what 1.5 s of sending (hundreds of MiB) would be.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });

  it("HTTP/2 without :authority or Host: the stream is reset (nghttp2 refuses it before Node), and the server keeps serving", async () => {
    const status = await h2Answer({ ":method": "POST", ":scheme": "http", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc-web+proto" });
    expect(status).toBe(-1);
    await expect(createClient(Health, createGrpcTransport({ baseUrl })).check({})).resolves.toMatchObject({ status: Serving.SERVING });
  });
});
