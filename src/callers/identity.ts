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

/**
 * Splits on `separator` outside double quotes and unquotes values: the XFCC grammar
 * (Envoy: elements by ',', pairs by ';', values quoted when they hold those characters).
 */
function splitQuoted(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && quoted && i + 1 < text.length) {
      current += c + text[++i];
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === separator && !quoted) {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  const v = value.trim();
  return v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1).replace(/\\(.)/g, "$1") : v;
}

/**
 * The client identity in an Envoy `x-forwarded-client-cert` header. With several elements the
 * last one is the one the nearest proxy (this pod's sidecar) appended: earlier ones are the
 * client's own claims and are ignored.
 */
export function xfccIdentity(header: string | undefined): string {
  if (!header) return "";
  const elements = splitQuoted(header, ",");
  const last = elements[elements.length - 1]!;
  const fields = new Map<string, string>();
  for (const pair of splitQuoted(last, ";")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim().toLowerCase();
    // URI may repeat (several URI SANs): the first wins, as for certificates.
    if (!fields.has(key)) fields.set(key, unquote(pair.slice(eq + 1)));
  }
  const uri = fields.get("uri");
  if (uri) return uri;
  return /(?:^|,)\s*CN=([^,]+)/.exec(fields.get("subject") ?? "")?.[1]?.trim() ?? "";
}
