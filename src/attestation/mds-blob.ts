import type { X509Certificate } from "node:crypto";
import { compactVerify, decodeProtectedHeader } from "jose";
import { z } from "zod";
import { certificateFromBase64, chainProblem } from "./cert-chain.js";

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

/** One MDS status report; `status` is e.g. FIDO_CERTIFIED_L1, REVOKED, ATTESTATION_KEY_COMPROMISE. */
export interface MdsStatusReport {
  readonly status: string;
  readonly effectiveDate: string | undefined;
}

/** What the service uses of one FIDO2 entry (keyed by AAGUID). */
export interface MdsEntry {
  readonly aaguid: string;
  readonly description: string;
  readonly attestationRoots: readonly X509Certificate[];
  readonly statusReports: readonly MdsStatusReport[];
}

export interface MdsCatalog {
  /** The BLOB's serial number; a newer BLOB has a larger one. */
  readonly no: number;
  /** When FIDO publishes the next BLOB (UTC midnight); past it, the catalogue is stale. */
  readonly nextUpdate: Date;
  readonly entries: ReadonlyMap<string, MdsEntry>;
}

/** JWS algorithms a BLOB may be signed with (FIDO signs RS256 today). */
const BLOB_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

const payloadSchema = z.object({
  no: z.number().int().nonnegative(),
  nextUpdate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  entries: z.array(
    z.object({
      aaguid: z.string().optional(),
      metadataStatement: z
        .object({
          description: z.string().default(""),
          attestationRootCertificates: z.array(z.string()).default([]),
        })
        .optional(),
      statusReports: z.array(z.object({ status: z.string(), effectiveDate: z.string().optional() })).default([]),
    }),
  ),
});

function parseableRoots(base64Ders: readonly string[]): X509Certificate[] {
  // One unparseable root must not void a signed BLOB's other entries; that entry just trusts less.
  return base64Ders.flatMap((der) => {
    try {
      return [certificateFromBase64(der)];
    } catch {
      return [];
    }
  });
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
  const problem = chainProblem(chain, roots, now);
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
  const entries = new Map<string, MdsEntry>();
  for (const entry of parsed.data.entries) {
    if (!entry.aaguid) continue; // UAF (aaid) and U2F (key identifier) entries: not FIDO2.
    const aaguid = entry.aaguid.toLowerCase();
    entries.set(aaguid, {
      aaguid,
      description: entry.metadataStatement?.description ?? "",
      attestationRoots: parseableRoots(entry.metadataStatement?.attestationRootCertificates ?? []),
      statusReports: entry.statusReports.map((r) => ({ status: r.status, effectiveDate: r.effectiveDate })),
    });
  }
  return { no: parsed.data.no, nextUpdate: new Date(`${parsed.data.nextUpdate}T00:00:00Z`), entries };
}

/** True once the BLOB's nextUpdate has passed: FIDO has published a newer one. */
export function isStale(catalog: MdsCatalog, now: Date): boolean {
  return catalog.nextUpdate.getTime() <= now.getTime();
}
