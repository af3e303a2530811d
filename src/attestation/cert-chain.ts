import { X509Certificate } from "node:crypto";

/** Parses DER or PEM; throws on anything else. */
export function certificate(data: Uint8Array | string): X509Certificate {
  return new X509Certificate(typeof data === "string" ? data : Buffer.from(data));
}

/** MDS and attestation statements carry certificates as base64 DER without PEM armour. */
export function certificateFromBase64(der: string): X509Certificate {
  return new X509Certificate(Buffer.from(der, "base64"));
}

function validAt(cert: X509Certificate, at: Date): boolean {
  return new Date(cert.validFrom) <= at && at <= new Date(cert.validTo);
}

function issuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

/**
 * Why a chain (leaf first) does not lead to one of the trust anchors at `at`, or undefined when
 * it does. A trust anchor may be the chain's own top certificate or the issuer of its top one
 * (RFC 5280: an anchor need not be self-signed); every certificate on the path, anchor included,
 * must be valid at `at`, and every issuer must be a CA. node:crypto checks names and signatures;
 * revocation (CRLs) is not checked here: the FIDO MDS status reports are the revocation source.
 */
export function chainProblem(chain: readonly X509Certificate[], anchors: readonly X509Certificate[], at: Date): string | undefined {
  if (chain.length === 0) return "no certificates";
  if (anchors.length === 0) return "no trust anchors";
  const anchorPrints = new Set(anchors.map((a) => a.fingerprint256));
  for (const [i, cert] of chain.entries()) {
    if (!validAt(cert, at)) return `certificate ${i} (${cert.subject.replace(/\n/g, ", ")}) is not valid at ${at.toISOString()}`;
    if (anchorPrints.has(cert.fingerprint256)) return undefined;
    const issuer = chain[i + 1];
    if (issuer === undefined) break;
    if (!issuer.ca) return `certificate ${i + 1} is not a CA`;
    if (!issuedBy(cert, issuer)) return `certificate ${i} is not signed by certificate ${i + 1}`;
  }
  const top = chain[chain.length - 1]!;
  const anchor = anchors.find((a) => a.ca && issuedBy(top, a));
  if (!anchor) return "the chain does not lead to a trust anchor";
  if (!validAt(anchor, at)) return `the trust anchor is not valid at ${at.toISOString()}`;
  return undefined;
}
