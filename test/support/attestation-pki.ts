/**
 * A throwaway PKI for attestation tests (tls-pki.ts makes the TLS one): CAs and leaves made with
 * @peculiar/x509 (WebCrypto keys), and FIDO MDS3 BLOBs signed with jose by a leaf of such a CA,
 * so the service's real verification code runs with a test root passed in place of the FIDO one.
 */
import { webcrypto, X509Certificate } from "node:crypto";
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { CompactSign } from "jose";

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

function caExtensions(): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}

/** A self-signed CA. */
export async function rootCa(name: string, validity: Validity = {}): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    notBefore: validity.notBefore ?? LONG_AGO,
    notAfter: validity.notAfter ?? FAR_AHEAD,
    keys,
    signingAlgorithm: ALG,
    extensions: caExtensions(),
  });
  return { cert: toNode(cert), keys };
}

/** A certificate issued by `issuer`: a CA when `ca` is set, else an end-entity leaf. */
export async function issue(issuer: Issued, name: string, opts: Validity & { readonly ca?: boolean } = {}): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${name}`,
    issuer: issuer.cert.subject.split("\n").join(", "),
    notBefore: opts.notBefore ?? LONG_AGO,
    notAfter: opts.notAfter ?? FAR_AHEAD,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: opts.ca ? caExtensions() : [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  return { cert: toNode(cert), keys };
}

/** An MDS3 statement entry (the fields the service reads, plus the ones FIDO always sends). */
export function mdsEntry(
  aaguid: string,
  description: string,
  attestationRoots: readonly X509Certificate[],
  statuses: readonly string[] = ["FIDO_CERTIFIED_L1"],
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
    statusReports: statuses.map((status) => ({ status, effectiveDate: "2020-01-01" })),
    timeOfLastStatusChange: "2020-01-01",
  };
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
export async function mdsSigningPki(leafValidity: Validity = {}): Promise<{ root: Issued; signer: Issued; chain: X509Certificate[] }> {
  const root = await rootCa("Test FIDO MDS Root");
  const intermediate = await issue(root, "Test MDS CA", { ca: true });
  const signer = await issue(intermediate, "Test mds3 signer", leafValidity);
  return { root, signer, chain: [signer.cert, intermediate.cert] };
}
