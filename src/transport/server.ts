import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import { type ConnectRouter, type ContextValues, createContextValues } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, connectNodeAdapter } from "@connectrpc/connect-node";
import { validateUniversalHandlerOptions } from "@connectrpc/connect/protocol";
import type { CallStage } from "../rpc/call-pipeline.js";
import { CONNECTION, connectionOf } from "../rpc/connection.js";
import { pipelineInterceptor } from "./connect-pipeline.js";
import { connectUnaryFirst } from "./connect-unary.js";
import type { RequestListener } from "./unary-call.js";
import { grpcUnaryFirst } from "./grpc-unary.js";
import { setHttp1Limits } from "../server-limits/http1-limits.js";
import { enforceHttp2Limits, http2Options } from "./http2-limits.js";
import type { TransportLimits } from "../server-limits/transport-limits.js";
import { enforceHandshakeDeadline, tlsOptions } from "./tls-limits.js";
import { recordingUnaryMethods, type UnaryMethod } from "./unary-methods.js";

/** The first bytes every HTTP/2 prior-knowledge connection sends (RFC 9113 §3.4). */
const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface ServerOptions {
  readonly routes: (router: ConnectRouter) => void;
  /** Caller policy, error mapping, telemetry: what every call runs, whichever path serves it. */
  readonly pipeline: CallStage;
  /** Plain HTTP handlers by exact path (e.g. /.well-known/jwks.json), served beside Connect. */
  readonly httpRoutes?: Readonly<Record<string, HttpHandler>>;
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string | undefined } | undefined;
  /** Per-request context values (the caller identity), made from the Node request. */
  readonly contextValues?: (req: http.IncomingMessage | http2.Http2ServerRequest) => ContextValues;
  /** Messages above this are refused by the transport before any handler runs. */
  readonly readMaxBytes: number;
  /** Timeouts, connections, streams and header sizes. */
  readonly limits: TransportLimits;
}

export interface RunningServer {
  readonly address: AddressInfo;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then closes the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * One port for every protocol: gRPC and gRPC-Web over HTTP/2, and Connect (JSON and binary) over
 * HTTP/2 and HTTP/1.1. Cleartext HTTP/2 servers refuse HTTP/1.1 clients, so a plain TCP server
 * peeks at each connection's first bytes and hands it to an HTTP/2 or an HTTP/1.1 server that
 * share one handler. With TLS, ALPN makes that choice instead. The handler serves gRPC unary
 * calls on HTTP/2 itself (grpc-unary.ts), then Connect unary POSTs on either HTTP version
 * (connect-unary.ts), and everything else with connect-node; all run the same implementations
 * through the same call pipeline.
 */
export async function startServer(opts: ServerOptions, port: number, host: string): Promise<RunningServer> {
  const { limits } = opts;
  // One set of protocol options for connect-node and the lean unary paths: the same limits,
  // compressions, serialization options and protocol-header requirement on every path.
  const protocolOptions = { readMaxBytes: opts.readMaxBytes, acceptCompression: [compressionGzip, compressionBrotli] };
  const handlerOptions = validateUniversalHandlerOptions(protocolOptions);
  const unaryMethods = new Map<string, UnaryMethod>();
  const contextValues = (req: http.IncomingMessage | http2.Http2ServerRequest) =>
    (opts.contextValues?.(req) ?? createContextValues()).set(CONNECTION, connectionOf(req));
  const connectHandler = connectNodeAdapter({
    routes: (router) => opts.routes(recordingUnaryMethods(router, unaryMethods, handlerOptions)),
    interceptors: [pipelineInterceptor(opts.pipeline)],
    ...protocolOptions,
    fallback: httpRouter(opts.httpRoutes ?? {}),
    contextValues,
  });
  const unaryPaths = { methods: unaryMethods, pipeline: opts.pipeline, handlerOptions, contextValues };
  const handler = requireAuthority(grpcUnaryFirst(unaryPaths, connectUnaryFirst(unaryPaths, connectHandler)));
  const sessions = new Set<http2.ServerHttp2Session>();
  const track = (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  };

  if (opts.tls) {
    const secure = http2.createSecureServer(
      {
        ...http2Options(limits),
        cert: readFileSync(opts.tls.certFile),
        key: readFileSync(opts.tls.keyFile),
        ...tlsOptions(limits),
        allowHTTP1: true,
        // mTLS: a client without a certificate from this CA fails the handshake.
        ...(opts.tls.clientCaFile ? { ca: readFileSync(opts.tls.clientCaFile), requestCert: true, rejectUnauthorized: true } : {}),
      },
      handler,
    );
    secure.maxConnections = limits.maxConnections;
    secure.on("session", track);
    setHttp1Limits(secure, limits);
    enforceHttp2Limits(secure, limits);
    enforceHandshakeDeadline(secure, limits.handshakeTimeoutMs);
    await listen(secure, port, host);
    return running(secure, sessions, undefined);
  }

  const h2 = http2.createServer(http2Options(limits), handler);
  h2.on("session", track);
  enforceHttp2Limits(h2, limits);
  const h1 = new Http1Connections(handler, limits);
  // No Nagle: small gRPC frames must not wait for delayed ACKs (a 40 ms stall per call).
  const front = net.createServer({ noDelay: true }, (socket) => sniff(socket, h2, h1, limits.handshakeTimeoutMs));
  front.maxConnections = limits.maxConnections;
  await listen(front, port, host);
  return running(front, sessions, h1);
}

/**
 * Every request must name a URL: an authority (an HTTP/1.0 request may carry no Host; Node
 * answers an HTTP/1.1 one without 400 itself and nghttp2 resets an HTTP/2 one without
 * `:authority` or Host) that, with the request target, parses as one (Host `[`, `%`, `a b`, an
 * absolute target such as `http://[`). connect-node builds each request's URL from them and threw,
 * synchronously, outside any handler: an uncaught exception that ended the process. Such
 * requests are answered 400 on every path, and anything else a path throws while taking a
 * request is answered 500 (or the exchange dropped, once answered) rather than left uncaught.
 */
function requireAuthority(next: RequestListener): RequestListener {
  return (req, res) => {
    const authority = "authority" in req ? req.authority : req.headers.host;
    if (authority === undefined || !URL.canParse(req.url ?? "", `http://${authority}`)) return answerBare(res, 400);
    try {
      next(req, res);
    } catch {
      answerBare(res, 500);
    }
  };
}

function answerBare(res: Parameters<RequestListener>[1], status: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status);
  res.end();
}

/** What Connect serves for a path that is no RPC: a plain HTTP handler. */
export type HttpHandler = NonNullable<Parameters<typeof connectNodeAdapter>[0]["fallback"]>;

/** A tiny router for the paths that are no RPC: exact match (query ignored), else 404. */
function httpRouter(routes: Readonly<Record<string, HttpHandler>>): HttpHandler {
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0]!;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route) return route(req, res);
    res.writeHead(404);
    res.end();
  };
}

/** The HTTP/1.1 server, fed the connections that the sniffing listener hands it. */
class Http1Connections {
  readonly server: http.Server;
  #draining = false;

  constructor(handler: http.RequestListener, limits: TransportLimits) {
    this.server = http.createServer(handler);
    setHttp1Limits(this.server, limits);
    // Never listening itself, the server would not emit `listening`, on which Node starts
    // tracking its connections and checking them against headersTimeout and requestTimeout.
    this.server.emit("listening");
    this.server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (this.#draining) res.setHeader("connection", "close");
      res.once("close", () => {
        if (this.#draining) req.socket.destroy();
      });
    });
  }

  accept(socket: Socket): void {
    this.server.emit("connection", socket);
  }

  /** Closes idle keep-alive connections now and busy ones when their response ends. */
  drain(): void {
    this.#draining = true;
    this.server.closeIdleConnections();
  }

  destroyAll(): void {
    this.server.closeAllConnections();
    this.server.close(); // stops the timeout checks
  }
}

/** `timeoutMs`: a deadline from accept, so that a client dripping a byte at a time is cut off too. */
function sniff(socket: Socket, h2: http2.Http2Server, h1: Http1Connections, timeoutMs: number): void {
  let seen = Buffer.alloc(0);
  const deadline = setTimeout(() => socket.destroy(), timeoutMs).unref();
  socket.once("close", () => clearTimeout(deadline));
  socket.on("error", () => socket.destroy());
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, HTTP2_PREFACE.length);
    const isH2Prefix = seen.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
    if (isH2Prefix && seen.length < HTTP2_PREFACE.length) return; // need more bytes to decide
    socket.off("data", onData);
    clearTimeout(deadline);
    socket.pause();
    socket.unshift(seen);
    if (isH2Prefix) {
      // The HTTP/2 session takes over the native handle and first feeds itself what is buffered
      // (Node ≥ 14.17 reads `readableLength` bytes on attach), so the socket itself is handed
      // over: a JavaScript stream in between (Node wraps one in a JSStreamSocket) cost a third of
      // a trivial call's CPU (bench/NOTES.md).
      h2.emit("connection", socket);
      return;
    }
    h1.accept(socket);
    // The HTTP/1.1 parser attaches in flowing mode only after a resume.
    socket.resume();
  };
  socket.on("data", onData);
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function running(
  server: net.Server,
  sessions: Set<http2.ServerHttp2Session>,
  h1: Http1Connections | undefined,
): RunningServer {
  return {
    address: server.address() as AddressInfo,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // GOAWAY: clients open no new streams here; open streams may finish.
      for (const session of sessions) session.close();
      h1?.drain();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.all([closed, ...[...sessions].map(waitClosed)]), deadline]);
      for (const session of sessions) session.destroy();
      h1?.destroyAll();
      await closed;
    },
  };
}

function waitClosed(session: http2.ServerHttp2Session): Promise<void> {
  return new Promise((resolve) => (session.closed ? resolve() : session.once("close", () => resolve())));
}
