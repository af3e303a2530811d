import type http from "node:http";
import type http2 from "node:http2";
import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";
import { peerCertificateIdentity } from "./identity.js";
import type { IdentityResult } from "./identity-result.js";
import type { CallerPolicy } from "./policy.js";
import { xfccIdentity } from "./xfcc.js";

/** The calling service's identity, set per request before any interceptor or handler runs. */
export const CALLER = createContextKey<string>("", { description: "calling service identity" });

/**
 * Why the identity header or client certificate was refused ("" when it was not): the call is
 * then anonymous, and the reason (never the header itself, which the client wrote) goes to the
 * log and the audit trail.
 */
export const CALLER_REJECTED = createContextKey<string>("", { description: "why the caller identity header was refused" });

const XFCC = "x-forwarded-client-cert";

/**
 * connectNodeAdapter's contextValues: reads the identity from the TLS socket (an HTTP/2
 * request's socket proxies to the session's TLS socket) or, in mesh mode, from the sidecar's
 * x-forwarded-client-cert header.
 */
export function callerContextValues(
  policy: Pick<CallerPolicy, "callerIdentity" | "xfccTrustedHops"> | undefined,
): (req: http.IncomingMessage | http2.Http2ServerRequest) => ContextValues {
  const trustedHops = policy?.xfccTrustedHops ?? 1;
  if (policy?.callerIdentity !== "xfcc") {
    return (req) => contextOf(peerCertificateIdentity(req.socket), "client certificate");
  }
  return (req) => {
    const header = xfccFieldValue(req.rawHeaders);
    return header === undefined ? createContextValues() : contextOf(xfccIdentity(header, trustedHops), XFCC);
  };
}

function contextOf(result: IdentityResult, source: string): ContextValues {
  const values = createContextValues();
  return "identity" in result ? values.set(CALLER, result.identity) : values.set(CALLER_REJECTED, `${source}: ${result.rejected}`);
}

/**
 * Every x-forwarded-client-cert field line, whatever its case, joined in order with ',' (RFC 9110
 * §5.3: a list sent as several lines is one list; a proxy appends, so the last line ends with
 * the sidecar's element). undefined when there is none.
 */
function xfccFieldValue(rawHeaders: readonly string[]): string | undefined {
  const lines: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === XFCC) lines.push(rawHeaders[i + 1]!);
  }
  return lines.length === 0 ? undefined : lines.join(",");
}
