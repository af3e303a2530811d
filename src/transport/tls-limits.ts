import { constants } from "node:crypto";
import type { Socket } from "node:net";
import type tls from "node:tls";
import type { TransportLimits } from "../server-limits/transport-limits.js";

/** The TLS options every TLS server of the port is created with. */
export function tlsOptions(limits: TransportLimits): tls.TlsOptions {
  return {
    minVersion: "TLSv1.2",
    // TLS 1.2 renegotiation serves no client of this service and costs the server a handshake
    // each time (Node allows 3 per 10 minutes); TLS 1.3 has none.
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
    // An idle timer only: enforceHandshakeDeadline also bounds a handshake dripped a byte at a time.
    handshakeTimeout: limits.handshakeTimeoutMs,
  };
}

/**
 * tls.Server's handshakeTimeout restarts with every byte received; this destroys a connection
 * whose handshake has not finished `timeoutMs` after accept, however it drips.
 */
export function enforceHandshakeDeadline(server: tls.Server, timeoutMs: number): void {
  // The TLS socket proxies its peer's address from the TCP socket it wraps: one TCP connection.
  const pending = new Map<string, NodeJS.Timeout>();
  const peer = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  const settle = (key: string) => {
    clearTimeout(pending.get(key));
    pending.delete(key);
  };
  server.on("connection", (socket: Socket) => {
    const key = peer(socket);
    pending.set(key, setTimeout(() => socket.destroy(), timeoutMs).unref());
    socket.once("close", () => settle(key));
  });
  server.on("secureConnection", (socket: Socket) => settle(peer(socket)));
}
