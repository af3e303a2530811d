import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isStale, MdsBlobError, verifyMdsBlob } from "../../src/attestation/mds-blob.js";
import { FIDO_MDS_ROOT_FILE, loadMdsCatalog, MAX_MDS_FILE_BYTES, pemCertificates } from "../../src/attestation/mds-file.js";
import { createLogger } from "../../src/logger.js";
import { dnsNames, issue, mdsEntry, mdsSigningPki, rootCa, signBlob, x509 } from "../support/attestation-pki.js";

const NOW = new Date("2026-06-01T00:00:00Z");
const YUBIKEY_5 = "cb69481e-8ff7-4039-93ec-0a2729a154a8";

async function fixture(leafValidity = {}) {
  const pki = await mdsSigningPki(leafValidity);
  const attestationRoot = await rootCa("Test attestation root");
  const payload = {
    no: 42,
    nextUpdate: "2026-07-01",
    entries: [
      mdsEntry(YUBIKEY_5.toUpperCase(), "YubiKey 5 Series", [attestationRoot.cert], ["FIDO_CERTIFIED_L2"]),
      { aaid: "4e4e#4005", metadataStatement: { description: "a UAF authenticator" }, statusReports: [] },
    ],
  };
  return { ...pki, attestationRoot, payload, blob: await signBlob(payload, pki.signer, pki.chain) };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MdsBlobError);
  return (err as Error).message;
}

describe("FIDO MDS3 BLOB verification", () => {
  it("verifies a BLOB chained to the given root and keeps its FIDO2 entries by lower-case AAGUID", async () => {
    const { blob, root, attestationRoot } = await fixture();
    const catalog = await verifyMdsBlob(blob, [root.cert], NOW);
    expect(catalog.no).toBe(42);
    expect(catalog.nextUpdate.toISOString()).toBe("2026-07-01T00:00:00.000Z");
    expect([...catalog.entries.keys()]).toEqual([YUBIKEY_5]);
    const entry = catalog.entries.get(YUBIKEY_5)!;
    expect(entry.description).toBe("YubiKey 5 Series");
    expect(entry.attestationRoots.map((c) => c.fingerprint256)).toEqual([attestationRoot.cert.fingerprint256]);
    expect(entry.statusReports).toEqual([{ status: "FIDO_CERTIFIED_L2", effectiveDate: "2020-01-01" }]);
    expect(isStale(catalog, NOW)).toBe(false);
  });

  it("refuses a tampered payload (signature)", async () => {
    const { blob, root, payload } = await fixture();
    const [header, , signature] = blob.split(".");
    const forged = Buffer.from(JSON.stringify({ ...payload, entries: [] })).toString("base64url");
    expect(await refusal(verifyMdsBlob(`${header}.${forged}.${signature}`, [root.cert], NOW))).toMatch(/signature does not verify/);
  });

  it("refuses a BLOB signed by a key other than its x5c leaf", async () => {
    const { root, chain, payload } = await fixture();
    const impostor = await issue(await rootCa("Impostor"), "impostor");
    const blob = await signBlob(payload, impostor, chain);
    expect(await refusal(verifyMdsBlob(blob, [root.cert], NOW))).toMatch(/signature does not verify/);
  });

  it("refuses a BLOB whose chain leads to another root", async () => {
    const { blob } = await fixture();
    const otherRoot = await rootCa("Test FIDO MDS Root");
    expect(await refusal(verifyMdsBlob(blob, [otherRoot.cert], NOW))).toMatch(/does not lead to a trust anchor/);
  });

  it("refuses a BLOB whose signing certificate has expired", async () => {
    const { blob, root } = await fixture({ notAfter: new Date("2026-05-01T00:00:00Z") });
    expect(await refusal(verifyMdsBlob(blob, [root.cert], NOW))).toMatch(/certificate 0 .* is not valid at 2026-06-01/);
  });

  it("refuses a chain whose issuer is not a CA", async () => {
    const { root, payload } = await fixture();
    const notCa = await issue(root, "not a CA");
    const signer = await issue(notCa, "signer");
    const blob = await signBlob(payload, signer, [signer.cert, notCa.cert]);
    expect(await refusal(verifyMdsBlob(blob, [root.cert], NOW))).toMatch(/certificate 1 \(CN=not a CA\) is not a CA/);
  });

  it("refuses a BLOB signed under the anchor by a certificate not issued to mds.fidoalliance.org (issue 13, break 12)", async () => {
    const { root, payload, intermediate } = await fixture();
    // Issued by the same CA as FIDO's signer: the anchor is a public TLS root.
    const webServer = { keyUsage: x509.KeyUsageFlags.digitalSignature, extensions: [dnsNames("attacker.example"), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])] };
    const ca = intermediate;
    for (const signer of [await issue(ca, "attacker.example", webServer), await issue(ca, "x", { subject: "CN=attacker.example", keyUsage: x509.KeyUsageFlags.digitalSignature })]) {
      const blob = await signBlob(payload, signer, [signer.cert, ca.cert]);
      expect(await refusal(verifyMdsBlob(blob, [root.cert], NOW))).toMatch(/signing certificate is not issued to mds\.fidoalliance\.org/);
    }
    // The host name in the common name counts only for a certificate without subjectAltName.
    const cnOnly = await issue(ca, "mds", { subject: "CN=mds.fidoalliance.org", keyUsage: x509.KeyUsageFlags.digitalSignature });
    expect((await verifyMdsBlob(await signBlob(payload, cnOnly, [cnOnly.cert, ca.cert]), [root.cert], NOW)).no).toBe(42);
    const sanElsewhere = await issue(ca, "mds", { subject: "CN=mds.fidoalliance.org", keyUsage: x509.KeyUsageFlags.digitalSignature, extensions: [dnsNames("attacker.example")] });
    expect(await refusal(verifyMdsBlob(await signBlob(payload, sanElsewhere, [sanElsewhere.cert, ca.cert]), [root.cert], NOW))).toMatch(/not issued to/);
  });

  it("refuses a BLOB whose signer's keyUsage does not allow digitalSignature, or that has no keyUsage", async () => {
    const { root, payload } = await fixture();
    const ca = await issue(root, "Test MDS CA", { ca: true });
    for (const keyUsage of [x509.KeyUsageFlags.keyEncipherment, undefined]) {
      const signer = await issue(ca, "mds", { ...(keyUsage === undefined ? {} : { keyUsage }), extensions: [dnsNames("mds.fidoalliance.org")] });
      const blob = await signBlob(payload, signer, [signer.cert, ca.cert]);
      expect(await refusal(verifyMdsBlob(blob, [root.cert], NOW))).toMatch(/keyUsage does not allow digitalSignature/);
    }
  });

  it("refuses a BLOB whose signing chain breaks a pathLenConstraint (issue 13, break 13)", async () => {
    const { root, payload } = await fixture();
    const i1 = await issue(root, "I1", { ca: true, pathLength: 0 });
    const i2 = await issue(i1, "I2", { ca: true });
    const signer = await issue(i2, "mds", { keyUsage: x509.KeyUsageFlags.digitalSignature, extensions: [dnsNames("mds.fidoalliance.org")] });
    const blob = await signBlob(payload, signer, [signer.cert, i2.cert, i1.cert]);
    expect(await refusal(verifyMdsBlob(blob, [root.cert], NOW))).toMatch(/CN=I2\) is one CA too many for a pathLenConstraint/);
  });

  it("reads status reports' certificates, merges duplicate AAGUIDs and reports unknown statuses (issue 13, breaks 10 and 14)", async () => {
    const { root, signer, chain, attestationRoot } = await fixture();
    const leaked = await issue(attestationRoot, "leaked");
    const entries = [
      mdsEntry(YUBIKEY_5, "YubiKey 5 Series", [attestationRoot.cert], ["REVOKED"]),
      mdsEntry(YUBIKEY_5.toUpperCase(), "YubiKey 5 Series", [attestationRoot.cert], ["FIDO_CERTIFIED_L2", { status: "ATTESTATION_KEY_COMPROMISE", certificate: leaked.cert }]),
      mdsEntry("fa2b99dc-9e39-4257-8f92-4a30d23c4118", "Other", [attestationRoot.cert], ["revoked"]),
    ];
    const catalog = await verifyMdsBlob(await signBlob({ no: 7, nextUpdate: "2026-07-01", entries }, signer, chain), [root.cert], NOW);
    expect(catalog.entries.get(YUBIKEY_5)!.statusReports.map((r) => r.status)).toEqual(["REVOKED", "FIDO_CERTIFIED_L2", "ATTESTATION_KEY_COMPROMISE"]);
    expect(catalog.condemned.get(`cert:${leaked.cert.fingerprint256}`)).toEqual({ status: "ATTESTATION_KEY_COMPROMISE", entry: YUBIKEY_5.toUpperCase() });
    expect(catalog.findings).toEqual([
      `entry ${YUBIKEY_5}: listed more than once; the most restrictive reading is used`,
      'entry fa2b99dc-9e39-4257-8f92-4a30d23c4118: status "revoked" is not an MDS3 status; the model is not trusted',
    ]);
  });

  it("refuses a JWT without x5c, and text that is no JWT", async () => {
    const { blob, root } = await fixture();
    const [, payload, signature] = blob.split(".");
    const bare = Buffer.from(JSON.stringify({ alg: "ES256" })).toString("base64url");
    expect(await refusal(verifyMdsBlob(`${bare}.${payload}.${signature}`, [root.cert], NOW))).toMatch(/no x5c/);
    expect(await refusal(verifyMdsBlob("<html>503</html>", [root.cert], NOW))).toMatch(/not a JWT/);
  });

  it("refuses a signed payload that is not an MDS3 payload", async () => {
    const { root, signer, chain } = await fixture();
    const blob = await signBlob({ no: 1, nextUpdate: "soon", entries: [] }, signer, chain);
    expect(await refusal(verifyMdsBlob(blob, [root.cert], NOW))).toMatch(/unexpected payload/);
  });

  it("accepts a BLOB past its nextUpdate and reports it stale", async () => {
    const { blob, root } = await fixture();
    const later = new Date("2026-07-02T00:00:00Z");
    expect(isStale(await verifyMdsBlob(blob, [root.cert], later), later)).toBe(true);
  });
});

describe("loading the BLOB from files", () => {
  const logger = createLogger("silent");

  it("ships the FIDO MDS root (GlobalSign Root CA - R3) and verifies against it by default", async () => {
    const roots = pemCertificates(await readFile(FIDO_MDS_ROOT_FILE, "utf8"));
    expect(roots.map((c) => c.fingerprint256)).toEqual([
      "CB:B5:22:D7:B7:F1:27:AD:6A:01:13:86:5B:DF:1C:D4:10:2E:7D:07:59:AF:63:5A:7C:F4:72:0D:C9:63:C5:3B",
    ]);
    const { blob } = await fixture();
    const dir = mkdtempSync(path.join(tmpdir(), "mds-"));
    writeFileSync(path.join(dir, "blob.jwt"), blob);
    // A test BLOB does not chain to the real FIDO root.
    expect(await refusal(loadMdsCatalog({ blobFile: path.join(dir, "blob.jwt") }, NOW, logger))).toMatch(/trust anchor/);
  });

  it("reads the BLOB and a root bundle from files", async () => {
    const { blob, root } = await fixture();
    const other = await rootCa("another root");
    const dir = mkdtempSync(path.join(tmpdir(), "mds-"));
    writeFileSync(path.join(dir, "blob.jwt"), `${blob}\n`);
    writeFileSync(path.join(dir, "roots.pem"), `${other.cert.toString()}${root.cert.toString()}`);
    const catalog = await loadMdsCatalog({ blobFile: path.join(dir, "blob.jwt"), rootFile: path.join(dir, "roots.pem") }, NOW, logger);
    expect(catalog.entries.has(YUBIKEY_5)).toBe(true);
  });
});

describe("start-up errors name the variable", () => {
  it("names MDS_BLOB_FILE for a missing or bad file, MDS_ROOT_CERT_FILE for a root file without certificates", async () => {
    const logger = createLogger("silent");
    const dir = mkdtempSync(path.join(tmpdir(), "mds-"));
    writeFileSync(path.join(dir, "error.html"), "<html>503 Service Unavailable</html>");
    writeFileSync(path.join(dir, "empty.pem"), "");
    writeFileSync(path.join(dir, "huge.jwt"), "");
    expect(await refusal(loadMdsCatalog({ blobFile: path.join(dir, "missing.jwt") }, NOW, logger))).toMatch(/^MDS_BLOB_FILE: cannot read .*ENOENT/);
    truncateSync(path.join(dir, "huge.jwt"), MAX_MDS_FILE_BYTES + 1); // sparse: no disk used
    expect(await refusal(loadMdsCatalog({ blobFile: path.join(dir, "huge.jwt") }, NOW, logger))).toMatch(/^MDS_BLOB_FILE: .*huge\.jwt is 67108865 bytes, more than 67108864/);
    expect(await refusal(loadMdsCatalog({ blobFile: path.join(dir, "error.html") }, NOW, logger))).toMatch(/^MDS_BLOB_FILE .*error\.html: MDS BLOB: not a JWT/);
    expect(
      await refusal(loadMdsCatalog({ blobFile: path.join(dir, "error.html"), rootFile: path.join(dir, "empty.pem") }, NOW, logger)),
    ).toMatch(/^MDS_ROOT_CERT_FILE: holds no PEM certificate/);
  });
});
