import type { X509Certificate } from "node:crypto";
import { KeyUsageFlags } from "@peculiar/asn1-x509";
import { compactVerify, decodeProtectedHeader } from "jose";
import { z } from "zod";
import { certificateFromBase64, chainProblem } from "./cert-chain.js";
import { dnsNamesOf, profileOf } from "./cert-extensions.js";
import { buildCatalog, type MdsCatalog } from "./mds-catalog.js";

export type { MdsCatalog, MdsEntry, MdsStatusReport } from "./mds-catalog.js";

/**
 * The FIDO Metadata Service (MDS3) BLOB: a JWT whose `x5c` header chains to the FIDO MDS root
 * (GlobalSign Root CA – R3, data/fido-mds-root-globalsign-r3.pem). Verified here with jose and
 * node:crypto rather than @simplewebauthn/server's MetadataService, which only downloads BLOBs
 * over the network (or takes unsigned statements without status reports), checks the chain
 * against one process-wide root setting, and does not refuse REVOKED authenticators.
 */

export class MdsBlobError extends Error {
  override readonly name = "MdsBlobError";
}

/** The host name FIDO's BLOB signing certificate is issued to: the only signer accepted under the anchor. */
export const FIDO_MDS_SIGNER = "mds.fidoalliance.org";

/** JWS algorithms a BLOB may be signed with (FIDO signs RS256 today). */
const BLOB_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

const payloadSchema = z.object({
  no: z.number().int().nonnegative(),
  nextUpdate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  entries: z.array(
    z.object({
      aaguid: z.string().optional(),
      aaid: z.string().optional(),
      metadataStatement: z
        .object({
          description: z.string().default(""),
          // Read as unknown: an odd icon is a finding (mds-catalog.ts), never a refused BLOB.
          icon: z.unknown().optional(),
          attestationRootCertificates: z.array(z.string()).default([]),
        })
        .optional(),
      statusReports: z.array(z.object({ status: z.string(), effectiveDate: z.string().optional(), certificate: z.string().optional() })).default([]),
    }),
  ),
});

/**
 * The signing leaf must be FIDO's: issued to the MDS host name and allowed to sign
 * (keyUsage digitalSignature). The anchor is a public TLS root, so a chain to it alone proves
 * only that some web site's certificate signed the BLOB.
 */
function signerProblem(leaf: X509Certificate): string | undefined {
  const profile = profileOf(leaf);
  if (!dnsNamesOf(profile).includes(FIDO_MDS_SIGNER)) return `the signing certificate is not issued to ${FIDO_MDS_SIGNER}`;
  if (profile.keyUsage === undefined || (profile.keyUsage & KeyUsageFlags.digitalSignature) === 0) {
    return "the signing certificate's keyUsage does not allow digitalSignature";
  }
  return undefined;
}

function signingChain(jwt: string): X509Certificate[] {
  let x5c: unknown;
  try {
    x5c = decodeProtectedHeader(jwt).x5c;
  } catch {
    throw new MdsBlobError("MDS BLOB: not a JWT");
  }
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === "string")) {
    throw new MdsBlobError("MDS BLOB: the JWT header has no x5c certificate chain");
  }
  try {
    return x5c.map(certificateFromBase64);
  } catch {
    throw new MdsBlobError("MDS BLOB: an x5c certificate does not parse");
  }
}

/**
 * Verifies the BLOB's signing chain to `roots` as of `now`, then its JWS signature with the
 * chain's leaf key, and returns its FIDO2 entries. Throws MdsBlobError on any failure: a BLOB
 * that does not verify is never partly used.
 */
export async function verifyMdsBlob(jwt: string, roots: readonly X509Certificate[], now: Date): Promise<MdsCatalog> {
  const chain = signingChain(jwt.trim());
  const problem = chainProblem(chain, roots, now) ?? signerProblem(chain[0]!);
  if (problem) throw new MdsBlobError(`MDS BLOB: signing certificate chain refused: ${problem}`);
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(jwt.trim(), chain[0]!.publicKey, { algorithms: BLOB_ALGORITHMS }));
  } catch {
    throw new MdsBlobError("MDS BLOB: the JWT signature does not verify");
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch {
    throw new MdsBlobError("MDS BLOB: the payload is not JSON");
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) throw new MdsBlobError(`MDS BLOB: unexpected payload: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return buildCatalog(parsed.data.no, new Date(`${parsed.data.nextUpdate}T00:00:00Z`), parsed.data.entries);
}

/** True once the BLOB's nextUpdate has passed: FIDO has published a newer one. */
export function isStale(catalog: MdsCatalog, now: Date): boolean {
  return catalog.nextUpdate.getTime() <= now.getTime();
}
