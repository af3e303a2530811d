/**
 * A throwaway PKI for attestation tests (tls-pki.ts makes the TLS one): CAs and leaves made with
 * @peculiar/x509 (WebCrypto keys), and FIDO MDS3 BLOBs signed with jose by a leaf of such a CA,
 * so the service's real verification code runs with a test root passed in place of the FIDO one.
 */
import { webcrypto, X509Certificate } from "node:crypto";
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { GeneralName, GeneralSubtree, GeneralSubtrees, Name as AsnName, NameConstraints, id_ce_nameConstraints } from "@peculiar/asn1-x509";
import { CompactSign } from "jose";
import { FIDO_MDS_SIGNER } from "../../src/attestation/mds-blob.js";
import { ID_FIDO_GEN_CE_AAGUID } from "../../src/attestation/cert-extensions.js";

/** @peculiar/x509 itself, for tests that build extensions: importing it here first loads the polyfill it needs. */
export { x509 };

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** Wide enough for every real vector's capture date (2014–2025) and for today. */
export const LONG_AGO = new Date("2010-01-01T00:00:00Z");
export const FAR_AHEAD = new Date("2060-01-01T00:00:00Z");

export interface Issued {
  readonly cert: X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
}

export interface Validity {
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
}

function toNode(cert: x509.X509Certificate): X509Certificate {
  return new X509Certificate(Buffer.from(cert.rawData));
}

/** A CA's extensions: cA with an optional pathLenConstraint, keyUsage keyCertSign (unless `keyUsage` says otherwise). */
function caExtensions(opts: IssueOptions = {}): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, opts.pathLength, true),
    new x509.KeyUsagesExtension(opts.keyUsage ?? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}

/** A self-signed CA. */
export async function rootCa(name: string, validity: Validity & Pick<IssueOptions, "pathLength" | "extensions"> = {}): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    notBefore: validity.notBefore ?? LONG_AGO,
    notAfter: validity.notAfter ?? FAR_AHEAD,
    keys,
    signingAlgorithm: ALG,
    extensions: [...caExtensions(validity), ...(validity.extensions ?? [])],
  });
  return { cert: toNode(cert), keys };
}

export interface IssueOptions extends Validity {
  /** A CA (basicConstraints cA, keyUsage keyCertSign) instead of an end-entity leaf. */
  readonly ca?: boolean;
  /** basicConstraints pathLenConstraint of a CA. */
  readonly pathLength?: number;
  /** keyUsage flags (x509.KeyUsageFlags); a leaf has none unless given. */
  readonly keyUsage?: number;
  /** The whole subject DN (e.g. "C=US, O=Vendor, OU=Authenticator Attestation, CN=Key"); default CN=`name`. */
  readonly subject?: string;
  /** More extensions: aaguidExtension, nameConstraintsExtension, subjectAltName, ... */
  readonly extensions?: readonly x509.Extension[];
  /** The subject's key pair (e.g. to re-certify a key); default a new one. */
  readonly keys?: webcrypto.CryptoKeyPair;
}

/** A certificate issued by `issuer`: a CA when `ca` is set, else an end-entity leaf. */
export async function issue(issuer: Issued, name: string, opts: IssueOptions = {}): Promise<Issued> {
  const keys = opts.keys ?? (await newKeys());
  const leafUsage = opts.keyUsage === undefined ? [] : [new x509.KeyUsagesExtension(opts.keyUsage, true)];
  const cert = await x509.X509CertificateGenerator.create({
    subject: opts.subject ?? `CN=${name}`,
    issuer: issuer.cert.subject.split("\n").join(", "),
    notBefore: opts.notBefore ?? LONG_AGO,
    notAfter: opts.notAfter ?? FAR_AHEAD,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      ...(opts.ca ? caExtensions(opts) : [new x509.BasicConstraintsExtension(false, undefined, true), ...leafUsage]),
      ...(opts.extensions ?? []),
    ],
  });
  return { cert: toNode(cert), keys };
}

/** The id-fido-gen-ce-aaguid extension naming `aaguid` (non-critical, as FIDO requires). */
export function aaguidExtension(aaguid: string): x509.Extension {
  const value = new OctetString(Buffer.from(aaguid.replaceAll("-", ""), "hex"));
  return new x509.Extension(ID_FIDO_GEN_CE_AAGUID, false, AsnConvert.serialize(value));
}

/** A critical nameConstraints extension with dNSName and directoryName subtrees. */
export function nameConstraintsExtension(constraints: { readonly permitted?: readonly string[]; readonly excluded?: readonly string[] }): x509.Extension {
  // "dns:example.com" or "dn:O=Vendor"
  const subtrees = (specs: readonly string[] = []) =>
    new GeneralSubtrees(
      specs.map((spec) => {
        const [form, value] = spec.split(/:(.*)/s) as [string, string];
        const base =
          form === "dns"
            ? new GeneralName({ dNSName: value })
            : form === "uri"
              ? new GeneralName({ uniformResourceIdentifier: value })
              : new GeneralName({ directoryName: AsnConvert.parse(new x509.Name(value).toArrayBuffer(), AsnName) });
        return new GeneralSubtree({ base });
      }),
    );
  const nc = new NameConstraints({
    ...(constraints.permitted ? { permittedSubtrees: subtrees(constraints.permitted) } : {}),
    ...(constraints.excluded ? { excludedSubtrees: subtrees(constraints.excluded) } : {}),
  });
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(nc));
}

/** A subjectAltName extension with these DNS names. */
export function dnsNames(...names: string[]): x509.Extension {
  return new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value })));
}

/** An MDS3 statement entry (the fields the service reads, plus the ones FIDO always sends). */
export function mdsEntry(
  aaguid: string,
  description: string,
  attestationRoots: readonly X509Certificate[],
  statuses: readonly (string | { readonly status: string; readonly certificate: X509Certificate })[] = ["FIDO_CERTIFIED_L1"],
): Record<string, unknown> {
  return {
    aaguid,
    metadataStatement: {
      aaguid,
      description,
      protocolFamily: "fido2",
      schema: 3,
      attestationRootCertificates: attestationRoots.map((c) => c.raw.toString("base64")),
    },
    statusReports: statuses.map((s) =>
      typeof s === "string"
        ? { status: s, effectiveDate: "2020-01-01" }
        : { status: s.status, effectiveDate: "2020-01-01", certificate: s.certificate.raw.toString("base64") },
    ),
    timeOfLastStatusChange: "2020-01-01",
  };
}

/** A 1×1 PNG as the data: URI an MDS statement's `icon` holds. */
export const PNG_ICON = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/** `entry` (an mdsEntry) whose metadata statement has `icon`. */
export function withIcon(entry: Record<string, unknown>, icon: unknown): Record<string, unknown> {
  return { ...entry, metadataStatement: { ...(entry["metadataStatement"] as object), icon } };
}

/** A BLOB JWT signed ES256 by `signer`, whose x5c is `chain` (leaf first). */
export async function signBlob(
  payload: { readonly no: number; readonly nextUpdate: string; readonly entries: readonly unknown[] },
  signer: Issued,
  chain: readonly X509Certificate[],
): Promise<string> {
  const body = new TextEncoder().encode(JSON.stringify({ legalHeader: "test BLOB", ...payload }));
  return new CompactSign(body)
    .setProtectedHeader({ alg: "ES256", typ: "JWT", x5c: chain.map((c) => c.raw.toString("base64")) })
    .sign(signer.keys.privateKey);
}

/** A test MDS root, an intermediate, and the BLOB signing leaf under it. */
export async function mdsSigningPki(leafValidity: Validity = {}): Promise<{ root: Issued; intermediate: Issued; signer: Issued; chain: X509Certificate[] }> {
  const root = await rootCa("Test FIDO MDS Root");
  const intermediate = await issue(root, "Test MDS CA", { ca: true });
  // Like FIDO's: issued to the MDS host name, keyUsage digitalSignature.
  const signer = await issue(intermediate, FIDO_MDS_SIGNER, {
    ...leafValidity,
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    extensions: [dnsNames(FIDO_MDS_SIGNER)],
  });
  return { root, intermediate, signer, chain: [signer.cert, intermediate.cert] };
}
