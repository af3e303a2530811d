import { createHash, type X509Certificate } from "node:crypto";
import { certificateFromBase64, chainProblem } from "./cert-chain.js";
import { condemnsCertificate, MDS3_STATUSES } from "./mds-status.js";
import { providerIconProblem } from "./provider-icon.js";

/** One MDS status report; `status` is e.g. FIDO_CERTIFIED_L1, REVOKED, ATTESTATION_KEY_COMPROMISE. */
export interface MdsStatusReport {
  readonly status: string;
  readonly effectiveDate: string | undefined;
  /** The attestation certificate the report is about (MDS3 `certificate`), when it names one. */
  readonly certificate: X509Certificate | undefined;
}

/** What the service uses of one FIDO2 entry (keyed by AAGUID). */
export interface MdsEntry {
  readonly aaguid: string;
  readonly description: string;
  /** The statement's icon as a data: URI that passed providerIconProblem; "" when none did. */
  readonly icon: string;
  readonly attestationRoots: readonly X509Certificate[];
  readonly statusReports: readonly MdsStatusReport[];
}

/** A certificate or key that an MDS status report names, and which entry's report did. */
export interface CondemnedCertificate {
  readonly status: string;
  /** The AAGUID, AAID or "attestation key identifiers" of the entry whose report names it. */
  readonly entry: string;
}

/** An attestation root and the AAGUIDs of every entry that lists it. */
export interface SharedRoot {
  readonly root: X509Certificate;
  readonly aaguids: readonly string[];
}

export interface MdsCatalog {
  /** The BLOB's serial number; a newer BLOB has a larger one. */
  readonly no: number;
  /** When FIDO publishes the next BLOB (UTC midnight); past it, the catalogue is stale. */
  readonly nextUpdate: Date;
  readonly entries: ReadonlyMap<string, MdsEntry>;
  /** Certificates (`cert:` fingerprint) and keys (`key:` SPKI SHA-256) named by a refusing report of any entry. */
  readonly condemned: ReadonlyMap<string, CondemnedCertificate>;
  /** Every attestation root, once, with the entries that list it. */
  readonly roots: readonly SharedRoot[];
  /** What the BLOB holds that the service set aside or read restrictively; logged when it is loaded. */
  readonly findings: readonly string[];
}

/** The payload fields one entry has, as the BLOB schema (mds-blob.ts) gives them. */
export interface RawEntry {
  readonly aaguid?: string | undefined;
  readonly aaid?: string | undefined;
  readonly metadataStatement?: { readonly description: string; readonly icon?: unknown; readonly attestationRootCertificates: readonly string[] } | undefined;
  readonly statusReports: readonly { readonly status: string; readonly effectiveDate?: string | undefined; readonly certificate?: string | undefined }[];
}

const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A certificate the BLOB carries; one that does not parse is a finding, not a failed BLOB. */
function parsed(der: string, where: string, findings: string[]): X509Certificate[] {
  try {
    return [certificateFromBase64(der)];
  } catch {
    findings.push(`${where}: a certificate does not parse; ignored`);
    return [];
  }
}

const keyPrint = (cert: X509Certificate) => createHash("sha256").update(cert.publicKey.export({ type: "spki", format: "der" })).digest("hex");

/** The keys under which a certificate is looked up in `condemned`: itself, and its public key. */
export function condemnationKeys(cert: X509Certificate): [string, string] {
  return [`cert:${cert.fingerprint256}`, `key:${keyPrint(cert)}`];
}

/**
 * Duplicate AAGUIDs (case-insensitive) resolve to the most restrictive reading: every
 * duplicate's status reports count, and only roots every duplicate lists are trusted.
 */
function merge(a: MdsEntry, b: MdsEntry): MdsEntry {
  const inB = new Set(b.attestationRoots.map((r) => r.fingerprint256));
  return {
    aaguid: a.aaguid,
    description: a.description || b.description,
    icon: a.icon || b.icon,
    attestationRoots: a.attestationRoots.filter((r) => inB.has(r.fingerprint256)),
    statusReports: [...a.statusReports, ...b.statusReports],
  };
}

function sharedRoots(entries: ReadonlyMap<string, MdsEntry>): SharedRoot[] {
  const byPrint = new Map<string, { root: X509Certificate; aaguids: string[] }>();
  for (const entry of entries.values()) {
    for (const root of entry.attestationRoots) {
      const shared = byPrint.get(root.fingerprint256) ?? { root, aaguids: [] };
      shared.aaguids.push(entry.aaguid);
      byPrint.set(root.fingerprint256, shared);
    }
  }
  return [...byPrint.values()];
}

/** Builds the catalogue from a verified BLOB's entries. */
export function buildCatalog(no: number, nextUpdate: Date, rawEntries: readonly RawEntry[]): MdsCatalog {
  const findings: string[] = [];
  const entries = new Map<string, MdsEntry>();
  const condemned = new Map<string, CondemnedCertificate>();
  for (const raw of rawEntries) {
    const name = raw.aaguid ?? raw.aaid ?? "attestation key identifiers";
    const statusReports = raw.statusReports.map((r) => ({
      status: r.status,
      effectiveDate: r.effectiveDate,
      certificate: r.certificate === undefined ? undefined : parsed(r.certificate, `entry ${name} status report`, findings)[0],
    }));
    // Every entry's reports count here, U2F and UAF ones included: a condemned certificate is refused whatever model it claims.
    for (const report of statusReports) {
      if (!MDS3_STATUSES.has(report.status)) findings.push(`entry ${name}: status ${JSON.stringify(report.status)} is not an MDS3 status; the model is not trusted`);
      if (!report.certificate || !condemnsCertificate(report.status)) continue;
      for (const key of condemnationKeys(report.certificate)) condemned.set(key, { status: report.status, entry: name });
    }
    if (raw.aaguid === undefined) continue; // UAF (aaid) and U2F (key identifier) entries: not FIDO2.
    if (!AAGUID.test(raw.aaguid)) {
      findings.push(`entry ${JSON.stringify(raw.aaguid)}: not an AAGUID; ignored`);
      continue;
    }
    const aaguid = raw.aaguid.toLowerCase();
    const entry: MdsEntry = {
      aaguid,
      description: raw.metadataStatement?.description ?? "",
      icon: acceptedIcon(raw.metadataStatement?.icon, aaguid, findings),
      attestationRoots: (raw.metadataStatement?.attestationRootCertificates ?? []).flatMap((der) => parsed(der, `entry ${aaguid} root`, findings)),
      statusReports,
    };
    const earlier = entries.get(aaguid);
    if (earlier) findings.push(`entry ${aaguid}: listed more than once; the most restrictive reading is used`);
    entries.set(aaguid, earlier ? merge(earlier, entry) : entry);
  }
  return { no, nextUpdate, entries, condemned, roots: sharedRoots(entries), findings };
}

/** The statement's icon if it is one the service may pass on; a refused one is a finding. */
function acceptedIcon(icon: unknown, aaguid: string, findings: string[]): string {
  if (icon === undefined) return "";
  const problem = typeof icon === "string" ? providerIconProblem(icon) : "icon is not a string";
  if (typeof icon === "string" && problem === undefined) return icon;
  findings.push(`entry ${aaguid}: ${problem}; not shown`);
  return "";
}

/** The first certificate of the chain (leaf or intermediate) that a status report condemns, by certificate or by key. */
export function condemnedIn(catalog: MdsCatalog, chain: readonly X509Certificate[]): { readonly index: number; readonly by: CondemnedCertificate } | undefined {
  for (const [index, cert] of chain.entries()) {
    for (const key of condemnationKeys(cert)) {
      const by = catalog.condemned.get(key);
      if (by) return { index, by };
    }
  }
  return undefined;
}

/** Every entry (AAGUID) one of whose roots anchors the chain at `at`: the models that could have issued it. */
export function modelsAnchoring(catalog: MdsCatalog, chain: readonly X509Certificate[], at: Date): Set<string> {
  const issuers = new Set(chain.map((c) => c.issuer));
  const prints = new Set(chain.map((c) => c.fingerprint256));
  const models = new Set<string>();
  for (const { root, aaguids } of catalog.roots) {
    if (!issuers.has(root.subject) && !prints.has(root.fingerprint256)) continue;
    if (chainProblem(chain, [root], at) === undefined) aaguids.forEach((a) => models.add(a));
  }
  return models;
}
