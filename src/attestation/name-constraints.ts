import type { GeneralSubtree, Name, NameConstraints } from "@peculiar/asn1-x509";
import { dnsNamesOf, type CertificateProfile } from "./cert-extensions.js";

/**
 * RFC 5280 name constraints (§4.2.1.10, §6.1.3 b/c) for the two name forms attestation and MDS
 * chains can carry: dNSName and directoryName. A constraint of any other form (rfc822Name, URI,
 * iPAddress, otherName, ...) refuses the chain — fail closed rather than ignore a restriction the
 * issuer meant — and so do `minimum`/`maximum`, which RFC 5280 forbids.
 */

function subtreeProblem(subtree: GeneralSubtree): string | undefined {
  if (subtree.minimum !== 0 || subtree.maximum !== undefined) return "a name constraint sets minimum/maximum";
  if (subtree.base.dNSName === undefined && subtree.base.directoryName === undefined) {
    return "a name constraint of a form other than dNSName or directoryName is not supported";
  }
  return undefined;
}

/** RFC 5280: "example.com" covers it and its subdomains; ".example.com" only subdomains. */
function dnsWithin(name: string, constraint: string): boolean {
  const c = constraint.toLowerCase().replace(/\.$/, "");
  const n = name.replace(/\.$/, "");
  if (c === "") return true;
  if (c.startsWith(".")) return n.endsWith(c);
  return n === c || n.endsWith(`.${c}`);
}

/** One RDN's attributes as comparable strings (type and case-folded, space-collapsed value), sorted. */
function rdnKey(rdn: Name[number]): string {
  return [...rdn]
    .map((atv) => `${atv.type}=${atv.value.toString().trim().replace(/\s+/g, " ").toLowerCase()}`)
    .sort()
    .join("+");
}

/** A directory name is within a subtree when the subtree's RDNs begin it. */
function directoryWithin(name: Name, constraint: Name): boolean {
  if (constraint.length > name.length) return false;
  return constraint.every((rdn, i) => rdnKey(rdn) === rdnKey(name[i]!));
}

interface Names {
  readonly dns: readonly string[];
  readonly directories: readonly Name[];
}

function namesOf(profile: CertificateProfile): Names {
  const sanDirectories = (profile.altNames ?? []).flatMap((n) => (n.directoryName ? [n.directoryName] : []));
  return { dns: dnsNamesOf(profile), directories: profile.subject.length > 0 ? [profile.subject, ...sanDirectories] : sanDirectories };
}

function matches(names: Names, subtree: GeneralSubtree): boolean {
  const { dNSName, directoryName } = subtree.base;
  if (dNSName !== undefined) return names.dns.some((n) => dnsWithin(n, dNSName));
  return names.directories.some((d) => directoryWithin(d, directoryName!));
}

/** A permitted set constrains a form only when it has subtrees of that form; then every name of that form must fall in one. */
function permittedProblem(names: Names, permitted: readonly GeneralSubtree[]): string | undefined {
  const dnsTrees = permitted.filter((s) => s.base.dNSName !== undefined);
  const dirTrees = permitted.filter((s) => s.base.directoryName !== undefined);
  const outsideDns = dnsTrees.length > 0 && names.dns.some((n) => !dnsTrees.some((s) => dnsWithin(n, s.base.dNSName!)));
  const outsideDir = dirTrees.length > 0 && names.directories.some((d) => !dirTrees.some((s) => directoryWithin(d, s.base.directoryName!)));
  return outsideDns || outsideDir ? "a name is outside the permitted subtrees of an issuer's name constraints" : undefined;
}

/** Why a certificate's names break the name constraints of the CAs above it, or undefined. */
export function nameConstraintProblem(constraints: readonly NameConstraints[], profile: CertificateProfile): string | undefined {
  if (constraints.length === 0) return undefined;
  const names = namesOf(profile);
  for (const { permittedSubtrees = [], excludedSubtrees = [] } of constraints) {
    for (const subtree of [...permittedSubtrees, ...excludedSubtrees]) {
      const problem = subtreeProblem(subtree);
      if (problem) return problem;
    }
    const problem = permittedProblem(names, [...permittedSubtrees]);
    if (problem) return problem;
    if (excludedSubtrees.some((s) => matches(names, s))) return "a name is in the excluded subtrees of an issuer's name constraints";
  }
  return undefined;
}
