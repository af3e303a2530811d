import http2 from "node:http2";
import { HTTP2_MAX_SESSION_MEMORY_MIB, type TransportLimits } from "../server-limits/transport-limits.js";

/** The HTTP/2 options every server of the port is created with. */
export function http2Options(limits: TransportLimits): http2.ServerOptions {
  return {
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: limits.maxHeaderBytes },
    maxSessionMemory: HTTP2_MAX_SESSION_MEMORY_MIB,
  };
}

/**
 * What Node's HTTP/2 server does not bound by itself: how long a session may stay without an
 * open stream (a peer that connects and sends nothing, or drips a header block, never opens
 * one), how long a stream's request may take to arrive, and whether the peer is still there
 * while its streams wait (a Watch stream can be quiet for hours). Works for any HTTP/2 server,
 * whoever hands it its connections.
 */
export function enforceHttp2Limits(server: http2.Http2Server | http2.Http2SecureServer, limits: TransportLimits): void {
  server.on("session", (session: http2.ServerHttp2Session) => {
    closeWhenIdle(session, limits.idleTimeoutMs, limits.headersTimeoutMs);
    if (limits.pingIntervalMs > 0) pingUntilClosed(session, limits.pingIntervalMs, limits.pingTimeoutMs);
  });
  server.on("stream", (stream: http2.ServerHttp2Stream) => cancelUnlessReceived(stream, limits.requestTimeoutMs));
}

/**
 * GOAWAY after `idleTimeoutMs` without an open stream, then `graceMs` for the session to end by
 * itself before it is destroyed: Node waits for the peer while a header block is unfinished.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, idleTimeoutMs: number, graceMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const whenIdle = () => {
    timer = session.closed
      ? setTimeout(() => session.destroy(), graceMs).unref()
      : setTimeout(() => {
          session.close();
          if (!session.destroyed) whenIdle();
        }, idleTimeoutMs).unref();
  };
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open += 1;
    clearTimeout(timer);
    stream.once("close", () => {
      open -= 1;
      if (open === 0) whenIdle();
    });
  });
  session.once("close", () => clearTimeout(timer));
  whenIdle();
}

function pingUntilClosed(session: http2.ServerHttp2Session, intervalMs: number, timeoutMs: number): void {
  const pinger = setInterval(() => {
    if (session.destroyed) return;
    const unanswered = setTimeout(() => session.destroy(), timeoutMs).unref();
    // Answered or not, the callback runs once; a destroyed session answers with an error.
    session.ping(() => clearTimeout(unanswered));
  }, intervalMs).unref();
  session.once("close", () => clearInterval(pinger));
}

/** The request (headers, then the body up to END_STREAM) must arrive within `timeoutMs`. */
function cancelUnlessReceived(stream: http2.ServerHttp2Stream, timeoutMs: number): void {
  const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), timeoutMs).unref();
  const received = () => clearTimeout(timer);
  stream.once("end", received);
  stream.once("close", received);
}
