import { createHash, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { startBff, type StartedBff } from "../../demo/bff.js";
import { demoWellKnown } from "../../demo/tenant.js";
import { UserDirectory } from "../../demo/users.js";
import { PLATFORM_AUTHENTICATOR, useBrowserSuite } from "../support/browser.js";
import { DemoLog, demoBffOptions, demoTenant, type Sites } from "../support/demo-sites.js";
import { startTestService } from "../support/service.js";
import { createTestPki } from "../support/tls-pki.js";

/** The demo's own site (the RP ID), a related origin it lists, and a look-alike it does not. */
const SITE = "https://acme-notes.com";
const RELATED = "https://acme-notes.co.uk";
const UNLISTED = "https://acme-notes.net";

interface RelatedSites extends Sites {
  /** Each site's host and the loopback port its BFF listens on, for Chromium's host mapping. */
  readonly ports: ReadonlyMap<string, number>;
  /** The SPKI hash of the sites' certificate, which Chromium is told to trust. */
  readonly spki: string;
}

/**
 * The demo over https under real-looking names, each BFF on a loopback port: Chromium maps the
 * names there (--host-resolver-rules) and trusts the test certificate by its key
 * (--ignore-certificate-errors-spki-list: a certificate so pinned counts as valid, which WebAuthn
 * needs). dynauthn's tenant has RP ID acme-notes.com and lists acme-notes.co.uk as related.
 */
async function startRelatedSites(): Promise<RelatedSites> {
  const pki = createTestPki("dynauthn-demo-test-ca");
  const hosts = [SITE, RELATED, UNLISTED].map((origin) => new URL(origin).hostname);
  const leaf = pki.issue("sites", hosts[0]!, hosts.map((h) => `DNS:${h}`).join(","), "serverAuth");
  const spki = createHash("sha256")
    .update(new X509Certificate(leaf.cert).publicKey.export({ type: "spki", format: "der" }))
    .digest("base64");
  const service = await startTestService(undefined, {
    tenant: demoTenant({ rpId: hosts[0]!, origins: [SITE], ...demoWellKnown(new URL(SITE), [RELATED]) }),
  });
  const log = new DemoLog();
  // One product on three sites: their BFFs share its user directory.
  const users = new UserDirectory();
  const bffs: StartedBff[] = [];
  const ports = new Map<string, number>();
  for (const origin of [SITE, RELATED, UNLISTED]) {
    const bff = await startBff(demoBffOptions(service, origin, log, users), "127.0.0.1", { key: leaf.key, cert: Buffer.concat([leaf.cert, pki.ca]), port: 0 });
    bffs.push(bff);
    ports.set(new URL(origin).hostname, bff.port);
  }
  return {
    site: SITE,
    service,
    log,
    ports,
    spki,
    close: async () => {
      await Promise.all(bffs.map((bff) => bff.close()));
      await service.close();
      pki.remove();
    },
  };
}

describe("demo in Chromium: related origins and the well-known documents", () => {
  const suite = useBrowserSuite(startRelatedSites, (sites) => [
    `--host-resolver-rules=${[...sites.ports].map(([host, port]) => `MAP ${host} 127.0.0.1:${port}`).join(", ")}`,
    `--ignore-certificate-errors-spki-list=${sites.spki}`,
  ]);

  it("serves the related-origins and passkey-endpoints documents dynauthn makes for the RP ID", async () => {
    const demo = await suite.open();
    const documents = await demo.page.evaluate(async () => {
      const get = async (path: string) => {
        const res = await fetch(path);
        return { status: res.status, type: res.headers.get("content-type"), body: await res.json() };
      };
      return { related: await get("/.well-known/webauthn"), endpoints: await get("/.well-known/passkey-endpoints") };
    });
    expect(documents.related).toEqual({ status: 200, type: "application/json", body: { origins: [RELATED] } });
    expect(documents.endpoints).toEqual({
      status: 200,
      type: "application/json",
      body: { enroll: `${SITE}/#add-passkey`, manage: `${SITE}/#passkeys` },
    });
    await demo.close();
  });

  it("a passkey made on the RP ID's site signs in on the related origin: Chromium fetched the document, dynauthn accepts the origin", async () => {
    const demo = await suite.open();
    await demo.addAuthenticator(PLATFORM_AUTHENTICATOR);
    await demo.signUp("ada");

    await demo.goto(RELATED);
    await demo.signIn("ada");
    const sent = demo.sent.findLast((s) => s.path === "/api/signin/finish")?.body as { credential: { response: { clientDataJSON: string } } };
    expect(JSON.parse(Buffer.from(sent.credential.response.clientDataJSON, "base64url").toString()).origin).toBe(RELATED);
    await demo.screenshot("11-related-origin-signed-in");

    // The look-alike is not in the document: Chromium refuses to use the RP ID there at all.
    await demo.signOut();
    await demo.goto(UNLISTED);
    await demo.submitSignIn("ada");
    await demo.expectStatus("The browser refused: SecurityError");
    expect(demo.sent.filter((s) => s.path === "/api/signin/finish")).toHaveLength(1);
    await demo.close();
  });
});
