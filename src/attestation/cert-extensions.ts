import type { X509Certificate } from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  BasicConstraints,
  Certificate,
  KeyUsage,
  NameConstraints,
  SubjectAlternativeName,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_certificatePolicies,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  type GeneralName,
  type Name,
} from "@peculiar/asn1-x509";

/** FIDO's id-fido-gen-ce-aaguid: the AAGUID of the model an attestation certificate was issued for. */
export const ID_FIDO_GEN_CE_AAGUID = "1.3.6.1.4.1.45724.1.1.4";

/**
 * Critical extensions the path validation processes. certificatePolicies is processed as RFC 5280
 * does with the initial policy set any-policy and no explicit policy required (no effect);
 * extKeyUsage is not narrowed for attestation (the statement formats check their own). Any other
 * critical extension (policyConstraints, policyMappings, inhibitAnyPolicy, unknown ones) refuses
 * the chain, as RFC 5280 §4.2 requires of an extension a validator does not process.
 */
const PROCESSED = new Set([
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_extKeyUsage,
  id_ce_subjectAltName,
  id_ce_nameConstraints,
  id_ce_certificatePolicies,
  id_ce_subjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  ID_FIDO_GEN_CE_AAGUID,
]);

/** What path validation and the trust policy read of one certificate (parsed with @peculiar/asn1-x509). */
export interface CertificateProfile {
  /** basicConstraints; undefined when the extension is absent (not a CA). */
  readonly basicConstraints: { readonly cA: boolean; readonly pathLen: number | undefined } | undefined;
  /** keyUsage as KeyUsageFlags bits; undefined when the extension is absent (any usage). */
  readonly keyUsage: number | undefined;
  readonly subject: Name;
  /** Subject and issuer are the same name (RFC 5280 "self-issued"). */
  readonly selfIssued: boolean;
  /** subjectAltName entries; undefined when the extension is absent. */
  readonly altNames: readonly GeneralName[] | undefined;
  readonly nameConstraints: NameConstraints | undefined;
  /** The id-fido-gen-ce-aaguid value as a lower-case UUID, when present. */
  readonly aaguid: string | undefined;
  /** OIDs of critical extensions nothing here processes. */
  readonly unprocessedCritical: readonly string[];
}

const profiles = new WeakMap<X509Certificate, CertificateProfile>();

function uuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function sameDer(a: Name, b: Name): boolean {
  return Buffer.from(AsnConvert.serialize(a)).equals(Buffer.from(AsnConvert.serialize(b)));
}

/** The profile of a certificate; throws when an extension this reads does not parse. Cached per object. */
export function profileOf(cert: X509Certificate): CertificateProfile {
  const cached = profiles.get(cert);
  if (cached) return cached;
  const tbs = AsnConvert.parse(cert.raw, Certificate).tbsCertificate;
  let basicConstraints: CertificateProfile["basicConstraints"];
  let keyUsage: number | undefined;
  let altNames: GeneralName[] | undefined;
  let nameConstraints: NameConstraints | undefined;
  let aaguid: string | undefined;
  const unprocessedCritical: string[] = [];
  const seen = new Set<string>();
  for (const ext of tbs.extensions ?? []) {
    // RFC 5280 §4.2: a certificate must not include more than one instance of an extension.
    if (seen.has(ext.extnID)) throw new Error(`extension ${ext.extnID} appears twice`);
    seen.add(ext.extnID);
    const value = ext.extnValue.buffer;
    if (ext.extnID === id_ce_basicConstraints) {
      const bc = AsnConvert.parse(value, BasicConstraints);
      basicConstraints = { cA: bc.cA, pathLen: bc.pathLenConstraint };
    } else if (ext.extnID === id_ce_keyUsage) {
      keyUsage = AsnConvert.parse(value, KeyUsage).toNumber();
    } else if (ext.extnID === id_ce_subjectAltName) {
      altNames = [...AsnConvert.parse(value, SubjectAlternativeName)];
    } else if (ext.extnID === id_ce_nameConstraints) {
      nameConstraints = AsnConvert.parse(value, NameConstraints);
    } else if (ext.extnID === ID_FIDO_GEN_CE_AAGUID) {
      const bytes = new Uint8Array(AsnConvert.parse(value, OctetString).buffer);
      if (bytes.length !== 16) throw new Error("id-fido-gen-ce-aaguid is not 16 bytes");
      aaguid = uuid(bytes);
    }
    if (ext.critical && !PROCESSED.has(ext.extnID)) unprocessedCritical.push(ext.extnID);
  }
  const profile: CertificateProfile = {
    basicConstraints,
    keyUsage,
    subject: tbs.subject,
    selfIssued: sameDer(tbs.subject, tbs.issuer),
    altNames,
    nameConstraints,
    aaguid,
    unprocessedCritical,
  };
  profiles.set(cert, profile);
  return profile;
}

const COMMON_NAME = "2.5.4.3";
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * The DNS names a certificate is issued to: its subjectAltName dNSNames, or, for a certificate
 * without subjectAltName, a common name that is a host name (RFC 6125's legacy rule, which
 * name constraints must then also cover). Lower case.
 */
export function dnsNamesOf(profile: CertificateProfile): string[] {
  if (profile.altNames) return profile.altNames.flatMap((n) => (n.dNSName === undefined ? [] : [n.dNSName.toLowerCase()]));
  return profile.subject
    .flatMap((rdn) => [...rdn])
    .filter((atv) => atv.type === COMMON_NAME && HOST_NAME.test(atv.value.toString()))
    .map((atv) => atv.value.toString().toLowerCase());
}
