import type { DocumentRequest } from "./document.js";

/** A DNS host name (what an RP ID is) with an optional port, as a Host or :authority value. */
const HOST_AND_PORT = /^([a-z0-9.-]{1,253})(?::\d{1,5})?$/;

/**
 * The host name a request is for, lower-case and without its port: HTTP/2's :authority, else
 * the Host header. Undefined for a request a server must refuse (RFC 9112 §3.2, RFC 9113
 * §8.3.1): no host, more than one Host line, a :authority and Host that disagree, or a value
 * that is no host name (user info, IP literals, spaces, commas, percent-encoding, non-ASCII).
 * Counting raw header lines matters: Node keeps only the first of several Host headers, while a
 * front proxy may have routed or cached by another.
 */
export function requestHost(req: DocumentRequest): string | undefined {
  const values = (name: string) => req.rawHeaders.filter((_, i) => i % 2 === 0 && req.rawHeaders[i]!.toLowerCase() === name).length;
  if (values("host") > 1 || values(":authority") > 1) return undefined;
  const authority = req.headers[":authority"];
  const host = req.headers.host;
  const given = typeof authority === "string" ? authority : host;
  if (given === undefined) return undefined;
  if (typeof authority === "string" && host !== undefined && host.toLowerCase() !== authority.toLowerCase()) return undefined;
  return HOST_AND_PORT.exec(given.toLowerCase())?.[1];
}
