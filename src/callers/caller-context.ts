import type http from "node:http";
import type http2 from "node:http2";
import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";
import { peerCertificateIdentity, xfccIdentity } from "./identity.js";

/** The calling service's identity, set per request before any interceptor or handler runs. */
export const CALLER = createContextKey<string>("", { description: "calling service identity" });

export type CallerIdentitySource = "mtls" | "xfcc";

/**
 * connectNodeAdapter's contextValues: reads the identity from the TLS socket (an HTTP/2
 * request's socket proxies to the session's TLS socket) or, in mesh mode, from the sidecar's
 * x-forwarded-client-cert header.
 */
export function callerContextValues(
  source: CallerIdentitySource,
): (req: http.IncomingMessage | http2.Http2ServerRequest) => ContextValues {
  return (req) => {
    const identity =
      source === "xfcc"
        ? xfccIdentity(headerValue(req.headers["x-forwarded-client-cert"]))
        : peerCertificateIdentity(req.socket);
    return createContextValues().set(CALLER, identity);
  };
}

/** A repeated header counts as one list, joined as HTTP does. */
function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}
