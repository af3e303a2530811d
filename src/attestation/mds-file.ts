import { readFile, stat } from "node:fs/promises";
import type { X509Certificate } from "node:crypto";
import type { Logger } from "pino";
import { certificate } from "./cert-chain.js";
import { isStale, type MdsCatalog, MdsBlobError, verifyMdsBlob } from "./mds-blob.js";

/** The FIDO MDS root shipped with the service (data/README.md says where it comes from). */
export const FIDO_MDS_ROOT_FILE = new URL("../../data/fido-mds-root-globalsign-r3.pem", import.meta.url);

/**
 * The largest file read as a BLOB or root bundle. FIDO's BLOB is ≈ 5 MB; a much larger file is
 * not one, and parsing it (JSON, zod, certificates) could exhaust the memory of a running service
 * at a reload.
 */
export const MAX_MDS_FILE_BYTES = 64 * 1024 * 1024;

/** A file's text; a missing, unreadable or oversized file is named by its variable. */
async function readText(variable: string, file: string | URL): Promise<string> {
  let size: number;
  let text: string;
  try {
    size = (await stat(file)).size;
    text = size > MAX_MDS_FILE_BYTES ? "" : await readFile(file, "utf8");
  } catch (err) {
    throw new MdsBlobError(`${variable}: cannot read ${String(file)}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  if (size > MAX_MDS_FILE_BYTES) throw new MdsBlobError(`${variable}: ${String(file)} is ${size} bytes, more than ${MAX_MDS_FILE_BYTES}`);
  return text;
}

/** Every certificate of a PEM bundle. */
export function pemCertificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => certificate(block));
}

export interface MdsFiles {
  /** The BLOB as downloaded from https://mds3.fidoalliance.org/ (a JWT). */
  readonly blobFile: string;
  /** PEM trust anchors of the BLOB's signing chain; default: the shipped FIDO MDS root. */
  readonly rootFile?: string | URL | undefined;
}

/**
 * Reads and verifies the BLOB at start. A BLOB that does not verify (bad signature, chain not
 * to the root, an expired signing certificate, a malformed payload) stops the service: it is
 * tampered with or broken, and tenants that require attestation cannot be served honestly. A
 * BLOB past its nextUpdate still verifies and is used, with a warning: its trust anchors and
 * status reports are still the newest known, and a failed refresh job should not stop sign-in.
 */
export async function loadMdsCatalog(files: MdsFiles, now: Date, logger: Logger): Promise<MdsCatalog> {
  const roots = pemCertificates(await readText("MDS_ROOT_CERT_FILE", files.rootFile ?? FIDO_MDS_ROOT_FILE));
  if (roots.length === 0) throw new MdsBlobError("MDS_ROOT_CERT_FILE: holds no PEM certificate");
  const blob = await readText("MDS_BLOB_FILE", files.blobFile);
  const catalog = await verifyMdsBlob(blob, roots, now).catch((err: unknown) => {
    throw err instanceof MdsBlobError ? new MdsBlobError(`MDS_BLOB_FILE ${files.blobFile}: ${err.message}`) : err;
  });
  const facts = { no: catalog.no, nextUpdate: catalog.nextUpdate.toISOString().slice(0, 10), entries: catalog.entries.size };
  if (catalog.findings.length > 0) {
    logger.warn({ event: "mds_blob_findings", no: catalog.no, findings: catalog.findings.slice(0, 20), count: catalog.findings.length }, "FIDO MDS BLOB: entries set aside or read restrictively");
  }
  if (isStale(catalog, now)) {
    logger.warn(facts, "FIDO MDS BLOB is past its nextUpdate: refresh MDS_BLOB_FILE (docs/attestation.md)");
  } else {
    logger.info(facts, "FIDO MDS BLOB verified");
  }
  return catalog;
}
