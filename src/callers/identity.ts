import type { TLSSocket } from "node:tls";

/**
 * A calling service's identity: the first URI SAN of its certificate (a SPIFFE ID such as
 * spiffe://cluster.local/ns/accounts/sa/account-service), else its subject CN; "" for none.
 */

/**
 * Node renders subjectaltname as `DNS:a, URI:spiffe://x`, JSON-quoting a value that holds a
 * comma or quote (`URI:"a,b"`), so a hostile SAN cannot smuggle a second entry.
 */
const SAN_ENTRY = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;

export function firstUriSan(subjectAltName: string | undefined): string {
  for (const [, kind, value] of (subjectAltName ?? "").matchAll(SAN_ENTRY)) {
    if (kind === "URI" && value) return value.startsWith('"') ? (JSON.parse(value) as string) : value;
  }
  return "";
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
