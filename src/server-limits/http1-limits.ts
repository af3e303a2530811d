import type http from "node:http";
import type http2 from "node:http2";
import { connectionsCheckingIntervalMs, type TransportLimits } from "./transport-limits.js";

/**
 * Sets the HTTP/1.1 limits on `server`: an http.Server, or an HTTP/2 TLS server with allowHTTP1
 * (which serves HTTP/1.1 with http.Server's code but on Node 20 takes none of its options).
 * Must run before the server listens (Node starts its timeout checks on `listening`).
 */
export function setHttp1Limits(server: http.Server | http2.Http2SecureServer, limits: TransportLimits): void {
  Object.assign(server, {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
  });
}
