import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { MAX_RELATED_ORIGIN_LABELS, registrableOriginLabel } from "../../src/tenants/related-origins.js";
import { parseTenantsFile, tenantConfigsOf } from "../../src/tenants/tenants-file.js";
import { passkeyEndpointsDocument, relatedOriginsDocument } from "../../src/tenants/well-known.js";
import { TENANT_DEFAULTS, tenantsFileRefusal } from "../support/tenants-file.js";

/** A one-tenant file for RP ID example.com with these related origins and passkey endpoints (YAML flow values). */
function file(relatedOrigins: readonly string[], extra = "", rpId = "example.com"): string {
  return `tenants:
  - id: shop
    rpId: ${rpId}
    rpName: Shop
    origins: [https://${rpId}]
    relatedOrigins: ${JSON.stringify(relatedOrigins)}
${extra}`;
}

const tenantOf = (text: string) => tenantConfigsOf(parseTenantsFile(text, "t.yaml", TENANT_DEFAULTS)).tenants[0]!;

describe("registrable origin labels (WebAuthn Level 3 §5.11, Public Suffix List via tldts)", () => {
  it.each([
    ["example.com", "example"],
    ["www.example.co.uk", "example"],
    ["shop.example.de", "example"],
    ["my-app.github.io", "my-app"], // the list's private section, as browsers use it
    ["xn--bcher-kva.de", "xn--bcher-kva"],
  ])("%s → %s", (host, label) => {
    expect(registrableOriginLabel(host)).toBe(label);
  });

  it.each(["localhost", "127.0.0.1", "[::1]", "co.uk", "github.io", "com", "example.internal", "intranet"])("%s has none", (host) => {
    expect(registrableOriginLabel(host)).toBeUndefined();
  });
});

describe("relatedOrigins in the tenants file", () => {
  it("accepts up to five labels, counting example.com and example.co.uk as one, and serves the list in order", () => {
    const origins = [
      "https://example.co.uk",
      "https://www.example.de",
      "https://exampledelivery.com",
      "https://exampledelivery.co.uk",
      "https://myexamplerewards.com",
      "https://examplecars.com",
      "https://my-app.github.io:8443",
    ];
    const tenant = tenantOf(file(origins));
    expect(tenant.relatedOrigins).toEqual(origins);
    expect(relatedOriginsDocument({ ...tenant })).toBe(JSON.stringify({ origins }));
  });

  it(`refuses a sixth label: browsers honour only the first ${MAX_RELATED_ORIGIN_LABELS}`, () => {
    const origins = ["a", "b", "c", "d", "e", "f"].map((l) => `https://${l}shop.com`);
    expect(tenantsFileRefusal(file(origins))).toContain(
      "tenants[shop].relatedOrigins: name 6 registrable domain labels (ashop, bshop, cshop, dshop, eshop, fshop); browsers honour only the first 5",
    );
    expect(() => tenantOf(file(origins.slice(0, 5)))).not.toThrow();
  });

  it.each([
    ["http://example.co.uk", "must be an https origin"],
    ["https://example.co.uk/", "must be an https origin"],
    ["https://EXAMPLE.co.uk", "must be an https origin"],
    ["https://example.co.uk/login", "must be an https origin"],
    ["android:apk-key-hash:" + "A".repeat(43), "must be an https origin"],
    ["https://127.0.0.1", "has no registrable domain"],
    ["https://[::1]:8443", "has no registrable domain"],
    ["https://localhost", "has no registrable domain"],
    ["https://co.uk", "has no registrable domain"],
    ["https://github.io", "has no registrable domain"],
    ["https://shop.internal", "has no registrable domain"],
    ["https://example.com", "is the RP ID example.com or under it"],
    ["https://login.example.com", "is the RP ID example.com or under it"],
  ])("refuses %s (%s)", (origin, message) => {
    expect(tenantsFileRefusal(file([origin]))).toMatch(new RegExp(`tenants\\[shop\\]\\.relatedOrigins\\[0\\]: ${message}`));
  });

  it("refuses an origin listed twice, or also under origins", () => {
    expect(tenantsFileRefusal(file(["https://example.de", "https://example.de"]))).toContain("tenants[shop].relatedOrigins[1]: is listed twice");
    const both = file(["https://example.de"]).replace("origins: [https://example.com]", "origins: [https://example.com, https://example.de]");
    expect(tenantsFileRefusal(both)).toContain("tenants[shop].relatedOrigins[0]: is also listed under origins");
  });

  it("refuses related origins for an RP ID that browsers never fetch a document for", () => {
    expect(tenantsFileRefusal(file(["https://example.de"], "", "localhost"))).toContain("tenants[shop].relatedOrigins: the RP ID localhost has no registrable domain");
  });

  it("a start with such a file stops with a ConfigError naming the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "dynauthn-related-"));
    try {
      const path = join(dir, "dynauthn.yaml");
      writeFileSync(path, file(["https://127.0.0.1"]));
      expect(() => loadConfig({ DYNAUTHN_CONFIG_FILE: path })).toThrow(ConfigError);
      expect(() => loadConfig({ DYNAUTHN_CONFIG_FILE: path })).toThrow(/tenants\[shop\]\.relatedOrigins\[0\]: has no registrable domain/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tenants that share an RP ID serve one document, so they must agree on it", () => {
    const second = (related: string) => `  - {id: admin, rpId: example.com, rpName: Admin, origins: [https://admin.example.com], relatedOrigins: [${related}]}\n`;
    const text = (related: string) => `defaultTenant: shop\n${file(["https://example.de"])}${second(related)}`;
    expect(tenantsFileRefusal(text("https://example.fr"))).toContain("tenants[admin].relatedOrigins: must equal tenant shop's relatedOrigins and passkeyEndpoints");
    expect(parseTenantsFile(text("https://example.de"), "t.yaml", TENANT_DEFAULTS).tenants).toHaveLength(2);
  });
});

describe("passkeyEndpoints in the tenants file", () => {
  const endpoints = (yaml: string) => file([], `    passkeyEndpoints: ${yaml}\n`);

  it("keeps absolute https URLs as the URL standard serialises them; either member may be absent", () => {
    const tenant = tenantOf(endpoints("{enroll: 'https://example.com/account/passkeys/new', manage: 'HTTPS://Example.com/account/passkeys#list'}"));
    expect(tenant.passkeyEndpoints).toEqual({ enroll: "https://example.com/account/passkeys/new", manage: "https://example.com/account/passkeys#list" });
    expect(passkeyEndpointsDocument(tenantOf(endpoints("{manage: 'https://example.com/m'}")))).toBe('{"manage":"https://example.com/m"}');
    // `{}` says "passkeys supported" without endpoints (the spec allows it).
    expect(passkeyEndpointsDocument(tenantOf(endpoints("{}")))).toBe("{}");
    expect(passkeyEndpointsDocument(tenantOf(file([])))).toBeUndefined();
  });

  it.each([
    ["{enroll: 'http://example.com/new'}", "enroll"],
    ["{enroll: '/account/passkeys'}", "enroll"],
    ["{manage: 'https://user:secret@example.com/m'}", "manage"],
    ["{manage: 'javascript:alert(1)'}", "manage"],
    [`{manage: 'https://example.com/${"a".repeat(2100)}'}`, "manage"],
  ])("refuses %s", (yaml, member) => {
    expect(tenantsFileRefusal(endpoints(yaml))).toContain(`tenants[shop].passkeyEndpoints.${member}:`);
  });

  it("refuses members the document does not define", () => {
    expect(tenantsFileRefusal(endpoints("{enrol: 'https://example.com/new'}"))).toContain("tenants[shop].passkeyEndpoints");
  });
});

describe("the single-tenant environment", () => {
  it("RP_RELATED_ORIGINS and PASSKEY_ENROLL_URL / PASSKEY_MANAGE_URL configure the default tenant", () => {
    const config = loadConfig({
      RP_ID: "example.com",
      RP_ORIGINS: "https://example.com",
      RP_RELATED_ORIGINS: "https://example.co.uk, https://example.de",
      PASSKEY_MANAGE_URL: "https://example.com/account/passkeys",
    });
    expect(config.tenant.relatedOrigins).toEqual(["https://example.co.uk", "https://example.de"]);
    expect(config.tenant.passkeyEndpoints).toEqual({ enroll: undefined, manage: "https://example.com/account/passkeys" });
    expect(loadConfig({}).tenant).toMatchObject({ relatedOrigins: [], passkeyEndpoints: undefined });
  });

  it("refuses what the tenants file refuses, naming the variable", () => {
    const related = (value: string) => () => loadConfig({ RP_ID: "example.com", RP_ORIGINS: "https://example.com", RP_RELATED_ORIGINS: value });
    expect(related("http://example.de")).toThrow(/RP_RELATED_ORIGINS\.\d+: must be an https origin/);
    expect(related("https://www.example.com")).toThrow("RP_RELATED_ORIGINS: https://www.example.com is the RP ID example.com or under it");
    expect(related("https://a1.com,https://a2.com,https://a3.com,https://a4.com,https://a5.com,https://a6.com")).toThrow(/RP_RELATED_ORIGINS: name 6 registrable domain labels/);
    expect(() => loadConfig({ RP_RELATED_ORIGINS: "https://example.de" })).toThrow("RP_RELATED_ORIGINS: the RP ID localhost has no registrable domain");
    expect(() => loadConfig({ PASSKEY_ENROLL_URL: "http://localhost/new" })).toThrow(/PASSKEY_ENROLL_URL: must be an absolute https URL/);
  });
});
