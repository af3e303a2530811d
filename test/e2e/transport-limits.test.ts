/**
 * Every server-level limit on every path into the port: cleartext (sniffed) and TLS, HTTP/1.1 and
 * HTTP/2. Hostile clients are raw sockets or node:http2 sessions, so each limit is seen from the
 * wire. Timeouts are set short here so that a client cut off by one shows within seconds.
 */
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { gzipSync } from "node:zlib";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { Health } from "../../src/gen/grpc/health/v1/health_pb.js";
import { DEFAULT_MAX_REQUEST_BYTES } from "../../src/transport/request-size.js";
import type { TransportLimits } from "../../src/server-limits/transport-limits.js";
import {
  EMPTY_GRPC_MESSAGE,
  FLAG,
  FRAME,
  type Frame,
  frame,
  grpcRequest,
  PREFACE,
  readFrames,
  SETTING,
  settingsOf,
} from "../support/raw-http2.js";
import { selfSignedLocalhost } from "../support/tls-pki.js";
import { closeAll, startTestService, type TestService } from "../support/service.js";
import { until as pollUntil } from "../support/until.js";

const LIMITS: TransportLimits = {
  handshakeTimeoutMs: 1000,
  headersTimeoutMs: 1000,
  requestTimeoutMs: 2000,
  idleTimeoutMs: 1500,
  pingIntervalMs: 0,
  pingTimeoutMs: 500,
  maxConnections: 1000,
  maxConcurrentStreams: 5,
  maxHeaderBytes: 8192,
  watchesPerConnection: 2,
  watchesTotal: 3,
};

/** How late past its limit a cut-off may come on a loaded machine (Node checks HTTP/1.1 timeouts every 250 ms here). */
const SLACK_MS = 3000;

const WATCH = "/grpc.health.v1.Health/Watch";
const UNARY = "/authn.v1.AuthService/BeginAuthentication";

type Path = "cleartext" | "tls";
const PATHS: Path[] = ["cleartext", "tls"];

let cert: { certFile: string; keyFile: string };
let services: Record<Path, TestService>;

beforeAll(async () => {
  cert = selfSignedLocalhost();
  const [cleartext, secure] = await Promise.all([
    startTestService(undefined, { transportLimits: LIMITS }),
    startTestService(undefined, { transportLimits: LIMITS, tls: cert }),
  ]);
  services = { cleartext, tls: secure };
});
afterAll(() => closeAll(...Object.values(services ?? {})));

const portOf = (svc: TestService) => svc.app.server.address.port;

/** A raw connection; over TLS, after the handshake, speaking `alpn`. */
function connect(svc: TestService, path: Path, alpn: "http/1.1" | "h2"): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket =
      path === "cleartext"
        ? net.connect(portOf(svc), "127.0.0.1", () => resolve(socket))
        : tls.connect({ port: portOf(svc), host: "127.0.0.1", servername: "localhost", ca: readFileSync(cert.certFile), ALPNProtocols: [alpn] }, () =>
            resolve(socket),
          );
    socket.once("error", reject);
  });
}

/** An HTTP/2 session of node:http2 on `path`. */
function h2Session(svc: TestService, path: Path): http2.ClientHttp2Session {
  const session =
    path === "cleartext"
      ? http2.connect(`http://127.0.0.1:${portOf(svc)}`)
      : http2.connect(`https://localhost:${portOf(svc)}`, { ca: readFileSync(cert.certFile) });
  session.on("error", () => {});
  return session;
}

interface Outcome {
  /** Milliseconds from the start until the server closed the connection, or undefined if it was still open at `giveUpMs`. */
  readonly closedAfterMs: number | undefined;
  readonly received: string;
}

/**
 * Writes `chunks` one every `everyMs` (the last one repeated), until the server closes the
 * connection or `giveUpMs` passes.
 */
function drip(socket: Duplex, chunks: readonly (string | Buffer)[], everyMs: number, giveUpMs: number): Promise<Outcome> {
  const start = Date.now();
  let received = "";
  socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
  socket.on("error", () => {});
  return new Promise((resolve) => {
    let i = 0;
    const write = () => {
      if (!socket.destroyed && socket.writable) socket.write(chunks[Math.min(i++, chunks.length - 1)]!);
    };
    const timer = setInterval(write, everyMs);
    write();
    const done = (closedAfterMs: number | undefined) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedAfterMs, received });
    };
    const giveUp = setTimeout(() => done(undefined), giveUpMs);
    socket.once("close", () => done(Date.now() - start));
  });
}

/** Resolves with the ms until `socket` closes, or undefined if still open at `giveUpMs`. */
function closesWithin(socket: Duplex, giveUpMs: number): Promise<number | undefined> {
  return drip(socket, [Buffer.alloc(0)], giveUpMs * 2, giveUpMs).then((o) => o.closedAfterMs);
}

function expectCutOff(outcome: Outcome | number | undefined, limitMs: number): void {
  const after = typeof outcome === "object" ? outcome.closedAfterMs : outcome;
  expect(after, `still open ${limitMs + SLACK_MS} ms after the start`).toBeDefined();
  expect(after!).toBeGreaterThanOrEqual(limitMs - 50);
  expect(after!).toBeLessThan(limitMs + SLACK_MS);
}

const REQUEST_LINE = `POST /authn.v1.AuthService/BeginAuthentication HTTP/1.1\r\nHost: localhost\r\n`;

describe.concurrent.each(PATHS)("HTTP/1.1 (%s)", (path) => {
  it("slowloris: a client sending one header line at a time is answered 408 and cut off at the headers timeout", async () => {
    const socket = await connect(services[path], path, "http/1.1");
    const lines = [REQUEST_LINE, ...Array.from({ length: 100 }, (_, i) => `X-Drip-${i}: ${i}\r\n`)];
    const outcome = await drip(socket, lines, 200, LIMITS.headersTimeoutMs + SLACK_MS);
    expectCutOff(outcome, LIMITS.headersTimeoutMs);
    expect(outcome.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("a client that connects and sends nothing is cut off at the headers timeout", async () => {
    const socket = await connect(services[path], path, "http/1.1");
    // Cleartext: the sniffing deadline (handshake timeout) comes first; TLS: the handshake is done.
    expectCutOff(await closesWithin(socket, LIMITS.headersTimeoutMs + SLACK_MS), Math.min(LIMITS.headersTimeoutMs, LIMITS.handshakeTimeoutMs));
  });

  it("a request body dripped a byte at a time is answered 408 and cut off at the request timeout", async () => {
    const socket = await connect(services[path], path, "http/1.1");
    const head = `${REQUEST_LINE}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const outcome = await drip(socket, [head, "{", " "], 200, LIMITS.requestTimeoutMs + SLACK_MS);
    expectCutOff(outcome, LIMITS.requestTimeoutMs);
    expect(outcome.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("an idle keep-alive connection is closed after the idle timeout (plus Node's 1 s keep-alive buffer)", async () => {
    const socket = await connect(services[path], path, "http/1.1");
    const request = `${REQUEST_LINE}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
    const outcome = await drip(socket, [request, Buffer.alloc(0)], 60_000, LIMITS.idleTimeoutMs + 1000 + SLACK_MS);
    expect(outcome.received).toMatch(/^HTTP\/1\.1 200 /);
    expectCutOff(outcome, LIMITS.idleTimeoutMs);
  });

  it("a header block above MAX_HEADER_BYTES is answered 431", async () => {
    const socket = await connect(services[path], path, "http/1.1");
    const outcome = await drip(socket, [`${REQUEST_LINE}X-Big: ${"a".repeat(LIMITS.maxHeaderBytes)}\r\n\r\n`], 60_000, SLACK_MS);
    expect(outcome.received).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe.concurrent("the cleartext port's protocol sniffing", () => {
  it("a client dripping the HTTP/2 preface a byte at a time is cut off at the handshake timeout", async () => {
    const socket = await connect(services.cleartext, "cleartext", "h2");
    const bytes = [...PREFACE].map((b) => Buffer.from([b]));
    expectCutOff(await drip(socket, bytes, 200, LIMITS.handshakeTimeoutMs + SLACK_MS), LIMITS.handshakeTimeoutMs);
  });

  it("a client that sends one byte and then nothing is cut off at the handshake timeout", async () => {
    const socket = await connect(services.cleartext, "cleartext", "h2");
    expectCutOff(await drip(socket, ["P", Buffer.alloc(0)], 60_000, LIMITS.handshakeTimeoutMs + SLACK_MS), LIMITS.handshakeTimeoutMs);
  });
});

describe.concurrent("TLS", () => {
  it("a handshake dripped a byte at a time is cut off at the handshake timeout (tls.Server's own timeout restarts with every byte)", async () => {
    const socket = net.connect(portOf(services.tls), "127.0.0.1");
    // A TLS record header announcing a 512-byte handshake record, then its body a byte at a time.
    const chunks = [Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), Buffer.from([0])];
    expectCutOff(await drip(socket, chunks, 200, LIMITS.handshakeTimeoutMs + SLACK_MS), LIMITS.handshakeTimeoutMs);
  });

  it("refuses TLS below 1.2 with a protocol_version alert", async () => {
    const refused = await new Promise<Error | undefined>((resolve) => {
      const socket = tls.connect({ port: portOf(services.tls), host: "127.0.0.1", rejectUnauthorized: false, minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" }, () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once("error", resolve);
    });
    // A server allowing TLS 1.1 would fail otherwise here (no cipher at its security level).
    expect(refused?.message).toMatch(/alert protocol version/);
  });

  it("refuses a TLS 1.2 client's renegotiation", async () => {
    const socket = tls.connect({ port: portOf(services.tls), host: "127.0.0.1", servername: "localhost", ca: readFileSync(cert.certFile), maxVersion: "TLSv1.2", ALPNProtocols: ["http/1.1"] });
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    const result = await new Promise<string>((resolve) => {
      socket.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err ? "refused" : "renegotiated"));
      socket.once("close", () => resolve("closed"));
      setTimeout(() => resolve("no answer"), SLACK_MS).unref();
    });
    socket.destroy();
    expect(["refused", "closed"]).toContain(result);
  });
});

/** Opens a raw HTTP/2 connection and collects the server's frames. */
async function rawH2(svc: TestService, path: Path): Promise<{ socket: Duplex; frames: Frame[] }> {
  const socket = await connect(svc, path, "h2");
  const frames: Frame[] = [];
  readFrames(socket, (f) => frames.push(f));
  socket.on("error", () => {});
  socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
  return { socket, frames };
}

/** Resolves with undefined after `ms`: the losing side of a race with what a test waits for. */
const after = (ms: number) => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms));

const until = <T>(read: () => T | undefined, timeoutMs = SLACK_MS): Promise<T> => pollUntil(read, timeoutMs);

describe.concurrent.each(PATHS)("HTTP/2 (%s)", (path) => {
  it("advertises SETTINGS_MAX_CONCURRENT_STREAMS and SETTINGS_MAX_HEADER_LIST_SIZE", async () => {
    const { socket, frames } = await rawH2(services[path], path);
    const settings = settingsOf(await until(() => frames.find((f) => f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK))));
    socket.destroy();
    expect(settings.get(SETTING.MAX_CONCURRENT_STREAMS)).toBe(LIMITS.maxConcurrentStreams);
    expect(settings.get(SETTING.MAX_HEADER_LIST_SIZE)).toBe(LIMITS.maxHeaderBytes);
  });

  it("refuses a stream beyond the concurrent-stream limit with REFUSED_STREAM", async () => {
    const { socket, frames } = await rawH2(services[path], path);
    // Requests whose bodies never come: each keeps its stream open until the request timeout.
    const ids = Array.from({ length: LIMITS.maxConcurrentStreams + 1 }, (_, i) => 2 * i + 1);
    socket.write(Buffer.concat(ids.map((id) => frame(FRAME.HEADERS, FLAG.END_HEADERS, id, grpcRequest(UNARY)))));
    const reset = await until(() => frames.find((f) => f.type === FRAME.RST_STREAM));
    socket.destroy();
    expect(reset.streamId).toBe(ids.at(-1));
    expect(reset.payload.readUInt32BE(0)).toBe(http2.constants.NGHTTP2_REFUSED_STREAM);
  });

  it("a header list above MAX_HEADER_BYTES is reset (ENHANCE_YOUR_CALM) once the client has acknowledged the setting; one below is served", async () => {
    const { socket, frames } = await rawH2(services[path], path);
    await until(() => frames.find((f) => f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK)));
    // Until the client acknowledges it, Node enforces its own default (64 KiB) instead.
    socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    const request = (id: number, padding: number) => [
      frame(FRAME.HEADERS, FLAG.END_HEADERS, id, grpcRequest(WATCH, { "x-pad": "a".repeat(padding) })),
      frame(FRAME.DATA, FLAG.END_STREAM, id, EMPTY_GRPC_MESSAGE),
    ];
    socket.write(Buffer.concat([...request(1, LIMITS.maxHeaderBytes), ...request(3, LIMITS.maxHeaderBytes / 2)]));
    const reset = await until(() => frames.find((f) => f.type === FRAME.RST_STREAM));
    const served = await until(() => frames.find((f) => f.type === FRAME.DATA && f.streamId === 3));
    socket.destroy();
    expect(reset.streamId).toBe(1);
    expect(reset.payload.readUInt32BE(0)).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(served.payload.length).toBeGreaterThan(5); // a Watch message: the status
  });

  it("a session with no open stream is closed (GOAWAY) after the idle timeout", async () => {
    const session = h2Session(services[path], path);
    const start = Date.now();
    await new Promise((resolve) => session.once("connect", resolve));
    const goaway = new Promise<number>((resolve) => session.once("goaway", () => resolve(Date.now() - start)));
    const closed = await Promise.race([goaway, after(LIMITS.idleTimeoutMs + SLACK_MS)]);
    session.destroy();
    expectCutOff(closed, LIMITS.idleTimeoutMs);
  });

  it("a session whose header block never ends is closed after the idle timeout and the headers timeout", async () => {
    const { socket } = await rawH2(services[path], path);
    const block = grpcRequest(UNARY);
    // HEADERS without END_HEADERS: the stream does not exist until a CONTINUATION ends the block.
    socket.write(frame(FRAME.HEADERS, 0, 1, block.subarray(0, 10)));
    const limit = LIMITS.idleTimeoutMs + LIMITS.headersTimeoutMs;
    expectCutOff(await closesWithin(socket, limit + SLACK_MS), limit);
  });

  it("an open Watch keeps its session past the idle timeout; the session closes an idle timeout after the Watch ends", async () => {
    const session = h2Session(services[path], path);
    const stream = session.request({ ":method": "POST", ":path": WATCH, "content-type": "application/grpc", te: "trailers" });
    stream.end(EMPTY_GRPC_MESSAGE);
    await new Promise((resolve) => stream.once("data", resolve));
    await new Promise((r) => setTimeout(r, LIMITS.idleTimeoutMs + 500));
    expect(session.closed || session.destroyed).toBe(false);
    const start = Date.now();
    const goaway = new Promise<number>((resolve) => session.once("goaway", () => resolve(Date.now() - start)));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const closed = await Promise.race([goaway, after(LIMITS.idleTimeoutMs + SLACK_MS)]);
    session.destroy();
    expectCutOff(closed, LIMITS.idleTimeoutMs);
  });

  it("a request body dripped a byte at a time is reset (CANCEL) at the request timeout", async () => {
    const session = h2Session(services[path], path);
    const stream = session.request({ ":method": "POST", ":path": UNARY, "content-type": "application/grpc", te: "trailers" });
    stream.on("error", () => {});
    const start = Date.now();
    stream.write(Buffer.from([0, 0, 0, 0, 100])); // announces a 100-byte message
    const dripping = setInterval(() => stream.writable && stream.write(Buffer.from([0])), 200);
    const closed = await new Promise<number | undefined>((resolve) => {
      stream.once("close", () => resolve(Date.now() - start));
      setTimeout(() => resolve(undefined), LIMITS.requestTimeoutMs + SLACK_MS);
    });
    clearInterval(dripping);
    const rstCode = stream.rstCode;
    session.destroy();
    expectCutOff(closed, LIMITS.requestTimeoutMs);
    expect(rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
  });
});

describe.concurrent("message size", () => {
  it.each(PATHS)("%s: a gzip-compressed gRPC message that inflates beyond MAX_REQUEST_BYTES is refused RESOURCE_EXHAUSTED (the decompressed size counts)", async (path) => {
    const compressed = gzipSync(Buffer.alloc(DEFAULT_MAX_REQUEST_BYTES * 4)); // ≈ 1 KiB on the wire
    const prefix = Buffer.alloc(5);
    prefix[0] = 1; // compressed
    prefix.writeUInt32BE(compressed.length, 1);
    const session = h2Session(services[path], path);
    const stream = session.request({ ":method": "POST", ":path": UNARY, "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip" });
    stream.end(Buffer.concat([prefix, compressed]));
    const status = await new Promise<string | undefined>((resolve) => {
      stream.on("response", (headers) => headers["grpc-status"] !== undefined && resolve(String(headers["grpc-status"])));
      stream.on("trailers", (trailers) => resolve(String(trailers["grpc-status"])));
      stream.resume();
    });
    session.destroy();
    expect(compressed.length).toBeLessThan(DEFAULT_MAX_REQUEST_BYTES);
    expect(Number(status)).toBe(Code.ResourceExhausted);
  });
});

// Not concurrent with the timing tests: thousands of streams keep the event loop they share busy.
describe.each(PATHS)("HTTP/2 (%s) under a stream flood", (path) => {
  it("rapid reset (CVE-2023-44487): a client that opens and cancels streams without pause is stopped with GOAWAY (nghttp2's reset rate limit)", async () => {
    const { socket, frames } = await rawH2(services[path], path);
    const cancel = Buffer.alloc(4);
    cancel.writeUInt32BE(http2.constants.NGHTTP2_CANCEL);
    // nghttp2 (≥ 1.57, Node ≥ 20.8.1) allows a burst of 1000 incoming RST_STREAMs, then 33 a second.
    const ids = Array.from({ length: 1500 }, (_, i) => 2 * i + 1);
    socket.write(Buffer.concat(ids.flatMap((id) => [frame(FRAME.HEADERS, FLAG.END_HEADERS, id, grpcRequest(WATCH)), frame(FRAME.RST_STREAM, 0, id, cancel)])));
    const goaway = await until(() => frames.find((f) => f.type === FRAME.GOAWAY), 10_000);
    socket.destroy();
    expect(goaway.payload.readUInt32BE(4)).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
    expect(goaway.payload.readUInt32BE(0), "the last stream processed").toBeLessThan(ids.at(-1)!);
  });
});

describe.concurrent("HTTP/2 keepalive PING", () => {
  const PINGING = { ...LIMITS, idleTimeoutMs: 30_000, pingIntervalMs: 500, pingTimeoutMs: 500 };
  let pinging: Record<Path, TestService>;
  beforeAll(async () => {
    const [cleartext, secure] = await Promise.all([
      startTestService(undefined, { transportLimits: PINGING }),
      startTestService(undefined, { transportLimits: PINGING, tls: cert }),
    ]);
    pinging = { cleartext, tls: secure };
  });
  afterAll(() => closeAll(...Object.values(pinging ?? {})));

  it.each(PATHS)("%s: a peer holding a Watch that answers no PING is cut off; node:http2, which answers, keeps its Watch", async (path) => {
    const start = Date.now();
    const { socket, frames } = await rawH2(pinging[path], path);
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - start)));
    socket.write(Buffer.concat([frame(FRAME.HEADERS, FLAG.END_HEADERS, 1, grpcRequest(WATCH)), frame(FRAME.DATA, FLAG.END_STREAM, 1, EMPTY_GRPC_MESSAGE)]));
    const answering = h2Session(pinging[path], path);
    const watch = answering.request({ ":method": "POST", ":path": WATCH, "content-type": "application/grpc", te: "trailers" });
    watch.end(EMPTY_GRPC_MESSAGE);
    await until(() => frames.find((f) => f.type === FRAME.DATA && f.streamId === 1)); // the Watch is open
    const limit = PINGING.pingIntervalMs + PINGING.pingTimeoutMs;
    expectCutOff(await Promise.race([closed, after(limit + SLACK_MS)]), limit);
    expect(frames.some((f) => f.type === FRAME.PING)).toBe(true);
    await after(2 * limit); // two more PINGs, answered
    expect(answering.destroyed || watch.closed).toBe(false);
    answering.destroy();
  });
});

describe("Health/Watch streams", () => {
  // Its own service: the count in all must not see other tests' Watch streams.
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(undefined, { transportLimits: LIMITS });
  });
  afterAll(() => closeAll(svc));
  const watchOn = (svc: TestService) => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: svc.baseUrl }));
    return async (signal: AbortSignal) => {
      const stream = client.watch({}, { signal })[Symbol.asyncIterator]();
      await stream.next(); // the current status: the Watch is open
      return stream;
    };
  };
  const refusedLimit = async (open: Promise<unknown>) => {
    const err = ConnectError.from(await open.then(() => undefined, (e: unknown) => e));
    expect(err.code).toBe(Code.ResourceExhausted);
    return err.findDetails(ErrorInfoSchema)[0]?.metadata["limit"];
  };

  it("are bounded per connection and in all; a closed Watch frees its slot", async () => {
    const abort = new AbortController();
    try {
      const first = watchOn(svc); // each transport: its own HTTP/2 connection
      await first(abort.signal);
      await first(abort.signal);
      expect(await refusedLimit(first(abort.signal))).toBe("watch_connection");
      const second = watchOn(svc);
      const own = new AbortController();
      await second(own.signal);
      expect(await refusedLimit(second(abort.signal))).toBe("watch_total");
      own.abort();
      await new Promise((r) => setTimeout(r, 200)); // the server sees the cancel
      await second(abort.signal);
    } finally {
      abort.abort();
    }
  });
});

describe.concurrent("connections per process", () => {
  let svcs: Record<Path, TestService>;
  const MAX = 3;
  beforeAll(async () => {
    const limits = { ...LIMITS, maxConnections: MAX, handshakeTimeoutMs: 5000 };
    const [cleartext, secure] = await Promise.all([startTestService(undefined, { transportLimits: limits }), startTestService(undefined, { transportLimits: limits, tls: cert })]);
    svcs = { cleartext, tls: secure };
  });
  afterAll(() => closeAll(...Object.values(svcs ?? {})));

  it.each(PATHS)("%s: the connection beyond MAX_CONNECTIONS is closed at once; one is accepted again when another closes", async (path) => {
    const port = portOf(svcs[path]);
    const open = (): Promise<net.Socket> =>
      new Promise((resolve) => {
        const s = net.connect(port, "127.0.0.1", () => resolve(s));
        s.on("error", () => {});
      });
    const held = await Promise.all(Array.from({ length: MAX }, open));
    await new Promise((r) => setTimeout(r, 100)); // the server has accepted them
    expect(await closesWithin(await open(), 1000)).toBeDefined();
    held[0]!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await closesWithin(await open(), 1000)).toBeUndefined();
    for (const s of held) s.destroy();
  });
});
