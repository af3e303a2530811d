import { X509Certificate } from "node:crypto";
import type { NameConstraints } from "@peculiar/asn1-x509";
import { KeyUsageFlags } from "@peculiar/asn1-x509";
import { profileOf } from "./cert-extensions.js";
import { nameConstraintProblem } from "./name-constraints.js";

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

/** node:crypto (OpenSSL X509_check_issued: names, key identifiers) and the issuer key's signature. */
function issuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

/** The path from a trust anchor down to the leaf, and how to name each step in a message. */
interface CandidatePath {
  readonly path: readonly X509Certificate[];
  readonly label: (index: number) => string;
}

function describe(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ", ");
}

/** Paths the chain can take to an anchor: cut at an anchor it contains, else topped by each anchor that issues its top. */
function candidatePaths(chain: readonly X509Certificate[], anchors: readonly X509Certificate[]): CandidatePath[] {
  const inChain = (i: number) => `certificate ${i} (${describe(chain[i]!)})`;
  const anchorPrints = new Set(anchors.map((a) => a.fingerprint256));
  const cut = chain.findIndex((c) => anchorPrints.has(c.fingerprint256));
  if (cut >= 0) {
    const path = chain.slice(0, cut + 1).reverse();
    return [{ path, label: (i) => inChain(path.length - 1 - i) }];
  }
  const top = chain[chain.length - 1]!;
  return anchors
    .filter((anchor) => issuedBy(top, anchor))
    .map((anchor) => {
      const path = [anchor, ...[...chain].reverse()];
      return { path, label: (i) => (i === 0 ? `the trust anchor (${describe(anchor)})` : inChain(path.length - 1 - i)) };
    });
}

/**
 * RFC 5280 §6.1 basic path validation, from the anchor down: every certificate (anchor included)
 * valid at `at` and without a critical extension left unprocessed; every issuer a CA
 * (basicConstraints cA) whose keyUsage, when present, has keyCertSign, and whose key signed the
 * next certificate; pathLenConstraint counted over the non-self-issued intermediates below it
 * (the anchor's own included, as OpenSSL does); name constraints of every CA above applied to
 * the certificates below it (./name-constraints.ts).
 */
function pathProblem({ path, label }: CandidatePath, at: Date): string | undefined {
  let maxPathLength = Number.POSITIVE_INFINITY;
  const constraints: NameConstraints[] = [];
  for (const [i, cert] of path.entries()) {
    const profile = profileOf(cert);
    const last = i === path.length - 1;
    if (!validAt(cert, at)) return `${label(i)} is not valid at ${at.toISOString()}`;
    if (profile.unprocessedCritical.length > 0) return `${label(i)} has an unsupported critical extension ${profile.unprocessedCritical[0]}`;
    if (i > 0) {
      const issuer = profileOf(path[i - 1]!);
      if (!issuer.basicConstraints?.cA) return `${label(i - 1)} is not a CA`;
      if (issuer.keyUsage !== undefined && (issuer.keyUsage & KeyUsageFlags.keyCertSign) === 0) {
        return `${label(i - 1)} may not sign certificates (keyUsage without keyCertSign)`;
      }
      if (!issuedBy(cert, path[i - 1]!)) return `${label(i)} is not signed by ${label(i - 1)}`;
      // RFC 5280 §6.1.3: a self-issued intermediate is exempt from its issuers' name constraints.
      const names = last || !profile.selfIssued ? nameConstraintProblem(constraints, profile) : undefined;
      if (names) return `${label(i)}: ${names}`;
    }
    if (last) break;
    if (i > 0 && !profile.selfIssued) {
      if (maxPathLength <= 0) return `${label(i)} is one CA too many for a pathLenConstraint above it`;
      maxPathLength -= 1;
    }
    const pathLen = profile.basicConstraints?.pathLen;
    if (pathLen !== undefined && pathLen < maxPathLength) maxPathLength = pathLen;
    if (profile.nameConstraints) constraints.push(profile.nameConstraints);
  }
  return undefined;
}

/**
 * Why a chain (leaf first) does not lead to one of the trust anchors at `at`, or undefined when
 * it does. A trust anchor may be one of the chain's certificates (the path ends there) or the
 * issuer of its top one (RFC 5280: an anchor need not be self-signed). Revocation (CRLs) is not
 * checked here: the FIDO MDS status reports are the revocation source. No maintained JavaScript
 * path validator covers this profile (docs/attestation.md, "Certificate paths"), hence this one.
 */
export function chainProblem(chain: readonly X509Certificate[], anchors: readonly X509Certificate[], at: Date): string | undefined {
  if (chain.length === 0) return "no certificates";
  if (anchors.length === 0) return "no trust anchors";
  if (new Set(chain.map((c) => c.fingerprint256)).size !== chain.length) return "the chain repeats a certificate";
  const candidates = candidatePaths(chain, anchors);
  if (candidates.length === 0) return "the chain does not lead to a trust anchor";
  let first: string | undefined;
  for (const candidate of candidates) {
    let problem: string | undefined;
    try {
      problem = pathProblem(candidate, at);
    } catch (err) {
      problem = `a certificate has a malformed extension: ${(err as Error).message}`;
    }
    if (problem === undefined) return undefined;
    first ??= problem;
  }
  return first;
}
