import type { TLSSocket } from "node:tls";
import { commonNameIdentity, uriIdentity, type IdentityResult } from "./identity-result.js";

/**
 * A calling service's identity: the first URI SAN of its certificate (a SPIFFE ID such as
 * spiffe://cluster.local/ns/accounts/sa/account-service), else its subject CN (never one shaped
 * like a URI); "" for none.
 */

/**
 * Node renders subjectaltname as `DNS:a, URI:spiffe://x`, JSON-quoting a value that holds a
 * comma or quote (`URI:"a,b"`), so a hostile SAN cannot smuggle a second entry. Entries are read
 * back to back (sticky): text that is not an entry makes the certificate name no one (undefined,
 * and no CN fallback either), instead of the search resuming somewhere inside a value.
 */
const SAN_ENTRY = /(?:^|, )([A-Za-z0-9 ]+):("(?:[^"\\]|\\.)*"|[^,"]*)/y;

export function firstUriSan(subjectAltName: string | undefined): string | undefined {
  const text = subjectAltName ?? "";
  SAN_ENTRY.lastIndex = 0;
  let uri = "";
  while (SAN_ENTRY.lastIndex < text.length) {
    const entry = SAN_ENTRY.exec(text);
    if (!entry) return undefined;
    const [, kind, value] = entry;
    if (!uri && kind === "URI" && value) {
      const unquoted = value.startsWith('"') ? jsonString(value) : value;
      if (unquoted === undefined) return undefined;
      uri = unquoted;
    }
  }
  return uri;
}

/** A JSON-quoted SAN value; undefined for one Node would not have written. */
function jsonString(quoted: string): string | undefined {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return undefined;
  }
}

/**
 * The verified peer certificate's identity; "" when the socket is not TLS or the peer unverified.
 * A certificate whose names cannot be read is refused (the call is then anonymous, and why is audited).
 */
export function peerCertificateIdentity(socket: unknown): IdentityResult {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (typeof tls?.getPeerCertificate !== "function" || tls.authorized !== true) return { identity: "" };
  const cert = tls.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { identity: "" };
  const uri = firstUriSan(cert.subjectaltname);
  if (uri === undefined) return { rejected: "subjectAltName unreadable" };
  if (uri) return uriIdentity(uri);
  // Node gives an array for a repeated attribute: which CN names the caller would be a guess.
  const cn: unknown = cert.subject?.CN;
  if (cn === undefined) return { identity: "" };
  return typeof cn === "string" ? commonNameIdentity(cn) : { rejected: "more than one CN" };
}
