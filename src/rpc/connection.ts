import type http from "node:http";
import type http2 from "node:http2";
import { createContextKey } from "@connectrpc/connect";

/**
 * The client connection a call arrived on (an HTTP/2 session or an HTTP/1.1 socket), for limits
 * per connection. Only its identity matters; undefined outside a real transport (unit tests).
 */
export const CONNECTION = createContextKey<object | undefined>(undefined, { description: "client connection" });

export function connectionOf(req: http.IncomingMessage | http2.Http2ServerRequest): object {
  return "stream" in req ? req.stream.session ?? req.socket : req.socket;
}
