/**
 * Every server-level limit of the listening port, in one place so that any server the port hands
 * connections to (HTTP/1.1, HTTP/2, TLS) reads the same values, and the Prometheus scrape port
 * (telemetry/) too: so it lives below both. config.ts reads them from the environment; like
 * begin-limit-settings.ts this file loads nothing else.
 */
export interface TransportLimits {
  /**
   * From accept until the connection has shown what it speaks: the TLS handshake, or on the
   * cleartext port the first bytes that tell HTTP/2 from HTTP/1.1. A deadline, not an idle timer.
   */
  readonly handshakeTimeoutMs: number;
  /** HTTP/1.1: a request's head must arrive within this from the connection's start or its last response. */
  readonly headersTimeoutMs: number;
  /** A whole request (head and body) must arrive within this: HTTP/1.1 requests and each HTTP/2 stream. */
  readonly requestTimeoutMs: number;
  /** A connection with no request in progress (HTTP/1.1 keep-alive, HTTP/2 without open streams) is closed after this. */
  readonly idleTimeoutMs: number;
  /** HTTP/2: the server PINGs each session this often; 0 = never. */
  readonly pingIntervalMs: number;
  /** HTTP/2: a PING unanswered for this long destroys the session (a dead peer holding streams). */
  readonly pingTimeoutMs: number;
  /** Open connections per process, all protocols; more are closed at accept. */
  readonly maxConnections: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: streams one connection may have open. */
  readonly maxConcurrentStreams: number;
  /** A request's header block: HTTP/1.1 maxHeaderSize and HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE. */
  readonly maxHeaderBytes: number;
  /** grpc.health.v1.Health/Watch streams one connection may hold. */
  readonly watchesPerConnection: number;
  /** grpc.health.v1.Health/Watch streams the process holds in all. */
  readonly watchesTotal: number;
}

/**
 * Clients of this service are other services (or their sidecars), so every limit can be tight:
 * 10 s to show a protocol and send a request head, 30 s for a request of at most
 * MAX_REQUEST_BYTES, 5 minutes of idleness (longer than the 60 s idle timeout of common load
 * balancers, so it is never the server that closes a connection a balancer is about to reuse).
 * 100 streams per connection is what RFC 9113 §6.5.2 recommends as the least to allow.
 */
export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = Object.freeze({
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  pingIntervalMs: 60_000,
  pingTimeoutMs: 20_000,
  maxConnections: 1024,
  maxConcurrentStreams: 100,
  maxHeaderBytes: 16 * 1024,
  watchesPerConnection: 8,
  watchesTotal: 256,
});

/**
 * HTTP/2 sessions' buffered memory (nghttp2 and Node's outgoing queues), in MiB, above which new
 * streams are refused with ENHANCE_YOUR_CALM: Node's default, set here so that it is written down.
 */
export const HTTP2_MAX_SESSION_MEMORY_MIB = 10;

/** How often Node checks HTTP/1.1 connections against the headers and request timeouts. */
export function connectionsCheckingIntervalMs(limits: TransportLimits): number {
  // A quarter of the shorter timeout: a connection outlives its timeout by at most 25 %.
  return Math.max(50, Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4);
}
