import type { TLSSocket } from "node:tls";

/**
 * A calling service's identity: the first URI SAN of its certificate (a SPIFFE ID such as
 * spiffe://cluster.local/ns/accounts/sa/account-service), else its subject CN; "" for none.
 */

/**
 * Node renders subjectaltname as `DNS:a, URI:spiffe://x`, JSON-quoting a value that holds a
 * comma or quote (`URI:"a,b"`), so a hostile SAN cannot smuggle a second entry. Entries are read
 * back to back (sticky): text that is not an entry ends the read with no identity, instead of the
 * search resuming somewhere inside a value.
 */
const SAN_ENTRY = /(?:^|, )([A-Za-z0-9 ]+):("(?:[^"\\]|\\.)*"|[^,"]*)/y;

export function firstUriSan(subjectAltName: string | undefined): string {
  const text = subjectAltName ?? "";
  SAN_ENTRY.lastIndex = 0;
  let uri = "";
  while (SAN_ENTRY.lastIndex < text.length) {
    const entry = SAN_ENTRY.exec(text);
    if (!entry) return "";
    const [, kind, value] = entry;
    if (!uri && kind === "URI" && value) uri = value.startsWith('"') ? jsonString(value) : value;
  }
  return uri;
}

/** A JSON-quoted SAN value; "" for one Node would not have written. */
function jsonString(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return "";
  }
}

/** The verified peer certificate's identity; "" when the socket is not TLS or the peer unverified. */
export function peerCertificateIdentity(socket: unknown): string {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (typeof tls?.getPeerCertificate !== "function" || tls.authorized !== true) return "";
  const cert = tls.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return "";
  const cn = cert.subject?.CN;
  return firstUriSan(cert.subjectaltname) || (typeof cn === "string" ? cn : "");
}
