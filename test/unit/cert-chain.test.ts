/**
 * The classic RFC 5280 path-validation cases against src/attestation/cert-chain.ts, which both
 * the MDS BLOB's signing chain and attestation chains go through (issue 13, break 13). Each
 * verdict is also asked of OpenSSL (`openssl verify`, the CLI on every build machine), so the
 * validator written here is held to a maintained one on every case they both handle.
 */
import { execFileSync } from "node:child_process";
import type { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainProblem } from "../../src/attestation/cert-chain.js";
import { dnsNames, issue, nameConstraintsExtension, rootCa, type Issued, x509 } from "../support/attestation-pki.js";

const AT = new Date("2026-06-01T00:00:00Z");
const BEFORE = new Date("2026-01-01T00:00:00Z");
const AFTER = new Date("2027-01-01T00:00:00Z");

let root: Issued;
let dir: string;
beforeAll(async () => {
  root = await rootCa("Path root");
  dir = mkdtempSync(join(tmpdir(), "cert-chain-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** OpenSSL's verdict on the chain (leaf first) with `anchor` as the only trust anchor, at AT. */
function opensslAccepts(chain: readonly X509Certificate[], anchor: X509Certificate): boolean {
  writeFileSync(join(dir, "anchor.pem"), anchor.toString());
  writeFileSync(join(dir, "untrusted.pem"), chain.slice(1).map((c) => c.toString()).join(""));
  writeFileSync(join(dir, "leaf.pem"), chain[0]!.toString());
  const untrusted = chain.length > 1 ? ["-untrusted", join(dir, "untrusted.pem")] : [];
  const args = ["verify", "-attime", String(AT.getTime() / 1000), "-no-CApath", "-no-CAstore", "-CAfile", join(dir, "anchor.pem"), ...untrusted];
  try {
    execFileSync("openssl", [...args, join(dir, "leaf.pem")], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

/** This validator refuses with `message`, and so does OpenSSL. */
function expectRefused(chain: readonly X509Certificate[], anchor: X509Certificate, message: RegExp): void {
  expect(chainProblem(chain, [anchor], AT)).toMatch(message);
  expect(opensslAccepts(chain, anchor), "openssl verify accepts it").toBe(false);
}

/** This validator accepts, and so does OpenSSL. */
function expectAccepted(chain: readonly X509Certificate[], anchor: X509Certificate): void {
  expect(chainProblem(chain, [anchor], AT)).toBeUndefined();
  expect(opensslAccepts(chain, anchor), "openssl verify refuses it").toBe(true);
}

/** root → CAs (in order) → leaf; returns the chain leaf first, without the root. */
async function chainUnder(top: Issued, cas: readonly Parameters<typeof issue>[2][], leaf: Parameters<typeof issue>[2] = {}): Promise<X509Certificate[]> {
  const issued: Issued[] = [];
  let issuer = top;
  for (const [i, opts] of cas.entries()) {
    issuer = await issue(issuer, `CA ${i + 1}`, { ca: true, ...opts });
    issued.push(issuer);
  }
  const end = await issue(issuer, "leaf", leaf);
  return [end.cert, ...issued.reverse().map((c) => c.cert)];
}

describe("certificate path validation (RFC 5280 §6.1)", () => {
  it("pathLenConstraint: root → I1 (pathLen 0) → I2 → leaf is refused; I1 (pathLen 0) → leaf and I1 (pathLen 1) → I2 → leaf are accepted", async () => {
    expectRefused(await chainUnder(root, [{ pathLength: 0 }, {}]), root.cert, /certificate 1 \(CN=CA 2\) is one CA too many/);
    expectAccepted(await chainUnder(root, [{ pathLength: 0 }]), root.cert);
    expectAccepted(await chainUnder(root, [{ pathLength: 1 }, {}]), root.cert);
    expectRefused(await chainUnder(root, [{ pathLength: 1 }, {}, {}]), root.cert, /CN=CA 3\) is one CA too many/);
  });

  it("the anchor's own pathLenConstraint counts, and a later, larger one does not lift an earlier one", async () => {
    const tight = await rootCa("Tight root", { pathLength: 0 });
    expectRefused(await chainUnder(tight, [{}]), tight.cert, /one CA too many/);
    expectAccepted(await chainUnder(tight, []), tight.cert);
    expectRefused(await chainUnder(root, [{ pathLength: 1 }, { pathLength: 5 }, {}]), root.cert, /CN=CA 3\) is one CA too many/);
  });

  it("an issuer that is not a CA (cA=false) is refused", async () => {
    const notCa = await issue(root, "not a CA");
    const leaf = await issue(notCa, "leaf");
    expectRefused([leaf.cert, notCa.cert], root.cert, /certificate 1 \(CN=not a CA\) is not a CA/);
  });

  it("a CA whose keyUsage lacks keyCertSign is refused", async () => {
    const chain = await chainUnder(root, [{ keyUsage: x509.KeyUsageFlags.digitalSignature }]);
    expectRefused(chain, root.cert, /CN=CA 1\) may not sign certificates/);
  });

  it("an expired intermediate, a not-yet-valid leaf and an expired anchor are refused", async () => {
    expectRefused(await chainUnder(root, [{ notAfter: BEFORE }]), root.cert, /certificate 1 \(CN=CA 1\) is not valid at/);
    expectRefused(await chainUnder(root, [{}], { notBefore: AFTER }), root.cert, /certificate 0 \(CN=leaf\) is not valid at/);
    const old = await rootCa("Old root", { notAfter: BEFORE });
    expectRefused(await chainUnder(old, []), old.cert, /the trust anchor \(CN=Old root\) is not valid/);
  });

  it("a wrong signature (same issuer name, another key) is refused", async () => {
    const impostor = await rootCa("Path root");
    const leaf = await issue(impostor, "leaf");
    expectRefused([leaf.cert], root.cert, /does not lead to a trust anchor/);
    const ca = await issue(root, "CA", { ca: true });
    const forgedCa = await issue(impostor, "CA", { ca: true });
    const underForged = await issue(forgedCa, "leaf");
    expectRefused([underForged.cert, ca.cert], root.cert, /certificate 0 \(CN=leaf\) is not signed by certificate 1/);
  });

  it("a chain that repeats a certificate (a loop) is refused", async () => {
    const [leaf, ca] = await chainUnder(root, [{}]);
    // Stricter than OpenSSL, which drops the repeat: a chain an authenticator sends twice over is malformed.
    expect(chainProblem([leaf!, ca!, ca!], [root.cert], AT)).toMatch(/repeats a certificate/);
    expect(opensslAccepts([leaf!, ca!, ca!], root.cert)).toBe(true);
  });

  it("name constraints: a permitted dNSName subtree admits its names and refuses others", async () => {
    const permitted = [{ extensions: [nameConstraintsExtension({ permitted: ["dns:vendor.example"] })] }];
    expectAccepted(await chainUnder(root, permitted, { extensions: [dnsNames("keys.vendor.example")] }), root.cert);
    expectRefused(await chainUnder(root, permitted, { extensions: [dnsNames("mds.fidoalliance.org")] }), root.cert, /outside the permitted subtrees/);
    // A name constraint also binds a host-name common name when there is no subjectAltName.
    expectRefused(await chainUnder(root, permitted, { subject: "CN=mds.fidoalliance.org" }), root.cert, /outside the permitted/);
  });

  it("name constraints: excluded subtrees (dNSName, directoryName) refuse, also under a later CA", async () => {
    const excludedDns = [{ extensions: [nameConstraintsExtension({ excluded: ["dns:fidoalliance.org"] })] }, {}];
    expectRefused(await chainUnder(root, excludedDns, { extensions: [dnsNames("MDS.fidoalliance.org")] }), root.cert, /excluded subtrees/);
    const excludedDn = [{ extensions: [nameConstraintsExtension({ excluded: ["dn:O=Evil Corp"] })] }];
    expectRefused(await chainUnder(root, excludedDn, { subject: "O=evil  corp, CN=leaf" }), root.cert, /excluded subtrees/);
    expectAccepted(await chainUnder(root, excludedDn, { subject: "O=Good Corp, CN=leaf" }), root.cert);
    const permittedDn = [{ extensions: [nameConstraintsExtension({ permitted: ["dn:O=Good Corp"] })] }];
    expectAccepted(await chainUnder(root, permittedDn, { subject: "O=Good Corp, CN=leaf" }), root.cert);
    expectRefused(await chainUnder(root, permittedDn, { subject: "O=Other, CN=leaf" }), root.cert, /outside the permitted/);
  });

  it("name constraints of a form not processed here (URI) refuse the chain rather than being ignored", async () => {
    const uri = [{ extensions: [nameConstraintsExtension({ permitted: ["uri:vendor.example"] })] }];
    const chain = await chainUnder(root, uri);
    // Stricter than OpenSSL, which applies the URI constraint to URI names only (the leaf has none): fail closed.
    expect(chainProblem(chain, [root.cert], AT)).toMatch(/form other than dNSName or directoryName/);
    expect(opensslAccepts(chain, root.cert)).toBe(true);
  });

  it("a critical extension the validator does not process refuses the chain", async () => {
    const unknown = new x509.Extension("1.3.6.1.4.1.99999.1", true, new Uint8Array([5, 0]));
    expectRefused(await chainUnder(root, [{}], { extensions: [unknown] }), root.cert, /unsupported critical extension 1\.3\.6\.1\.4\.1\.99999\.1/);
    const harmless = new x509.Extension("1.3.6.1.4.1.99999.1", false, new Uint8Array([5, 0]));
    expectAccepted(await chainUnder(root, [{}], { extensions: [harmless] }), root.cert);
  });
});

describe("anchors and expiry", () => {
  let leafChain: X509Certificate[];
  beforeAll(async () => {
    const batch = await issue(root, "Test batch CA", { ca: true });
    leafChain = [(await issue(batch, "attestation leaf")).cert, batch.cert];
  });

  it("accepts an anchor in the chain or one that issues its top; refuses a path that lacks its intermediate", () => {
    expect(chainProblem(leafChain, [root.cert], AT)).toBeUndefined();
    expect(chainProblem(leafChain, [leafChain[1]!], AT)).toBeUndefined();
    expect(chainProblem(leafChain.slice(0, 1), [root.cert], AT)).toMatch(/does not lead to a trust anchor/);
    // A leaf listed as an anchor is trusted as such (MDS lists CAs; this documents the rule).
    expect(chainProblem(leafChain, [leafChain[0]!], AT)).toBeUndefined();
  });

  it("refuses a chain whose anchor has expired", async () => {
    const oldRoot = await rootCa("old root", { notAfter: new Date("2026-01-01T00:00:00Z") });
    const chain = [(await issue(oldRoot, "leaf")).cert];
    expect(chainProblem(chain, [oldRoot.cert], AT)).toMatch(/the trust anchor \(CN=old root\) is not valid/);
  });
});
