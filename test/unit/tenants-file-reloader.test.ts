import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { CallerAuthorizer } from "../../src/callers/policy.js";
import { readTenantsFile, tenantConfigsOf } from "../../src/tenants/tenants-file.js";
import { TenantsFileReloader } from "../../src/tenants/tenants-file-reloader.js";
import { Tenants } from "../../src/tenants/tenants.js";

const DEFAULTS = { challengeTtlSeconds: 300, sessionTtlSeconds: 3600 };
const tenant = (id: string) => `  - {id: ${id}, rpId: ${id}.example, rpName: ${id}, origins: [https://${id}.example]}\n`;
const policy = (tenants: string, identity = "mtls") =>
  `callers:\n  callerIdentity: ${identity}\n  rules:\n    - {identity: spiffe://a, methods: ['*'], tenants: [${tenants}]}\n`;

describe("TenantsFileReloader", () => {
  const dir = mkdtempSync(join(tmpdir(), "dynauthn-reload-"));
  const path = join(dir, "dynauthn.yaml");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let version = 0;
  const write = (text: string) => {
    writeFileSync(path, text);
    const t = new Date(Date.UTC(2026, 0, 1) + ++version * 1000);
    utimesSync(path, t, t);
  };
  let logs: { event?: string; error?: string }[];
  let tenants: Tenants;
  let authorizer: CallerAuthorizer;
  let reloader: TenantsFileReloader;

  beforeEach(async () => {
    write(`tenants:\n${tenant("acme")}` + policy("acme"));
    const file = tenantConfigsOf(readTenantsFile(path, DEFAULTS));
    tenants = new Tenants(file.defaultTenant, file.tenants);
    authorizer = new CallerAuthorizer(readTenantsFile(path, DEFAULTS).callers!);
    logs = [];
    const sink = new Writable({ write: (chunk, _e, done) => (logs.push(JSON.parse(String(chunk))), done()) });
    reloader = new TenantsFileReloader({ path, defaults: DEFAULTS, tenants, authorizer, hasMetadata: false, logger: pino({ level: "info" }, sink) });
    await reloader.start(0);
  });

  it("does nothing while the file is unchanged", async () => {
    expect(await reloader.reload()).toBe(false);
    expect(logs).toEqual([]);
  });

  it("applies new tenants and rules in place", async () => {
    expect(authorizer.decide("spiffe://a", "authn.v1.AuthService/GetJwks", "globex").allowed).toBe(false);
    write(`defaultTenant: globex\ntenants:\n${tenant("acme")}${tenant("globex")}` + policy("acme, globex"));
    expect(await reloader.reload()).toBe(true);
    expect(tenants.resolve("").id).toBe("globex");
    expect(tenants.resolve("acme").rpId).toBe("acme.example");
    expect(authorizer.decide("spiffe://a", "authn.v1.AuthService/GetJwks", "globex").allowed).toBe(true);
    expect(logs.map((l) => l.event)).toEqual(["tenants_reloaded"]);
  });

  it("keeps the running configuration when the file is invalid, and says so once", async () => {
    write(`tenants:\n${tenant("acme").replace("https://acme.example", "ftp://acme")}` + policy("acme"));
    expect(await reloader.reload()).toBe(false);
    expect(await reloader.reload()).toBe(false);
    expect(tenants.resolve("acme").origins).toEqual(["https://acme.example"]);
    expect(logs.map((l) => l.event)).toEqual(["tenants_reload_failed"]);
    expect(logs[0]!.error).toContain("tenants[acme].origins[0]");
  });

  it("refuses a change of how callers are identified (that needs a restart)", async () => {
    write(`tenants:\n${tenant("acme")}${tenant("globex")}`.replace("tenants:", "defaultTenant: acme\ntenants:") + policy("'*'", "xfcc"));
    expect(await reloader.reload()).toBe(false);
    expect(() => tenants.resolve("globex")).toThrow(/tenant/);
    expect(logs[0]!.error).toMatch(/callerIdentity, xfccTrustedHops or allowAnonymousCallers, needs a restart/);
  });

  it("refuses a change of the trusted XFCC hops (read once at start)", async () => {
    write(`tenants:\n${tenant("acme")}` + policy("acme", "xfcc"));
    const mesh = new TenantsFileReloader({
      path,
      defaults: DEFAULTS,
      tenants,
      authorizer: new CallerAuthorizer(readTenantsFile(path, DEFAULTS).callers!),
      hasMetadata: false,
      logger: pino({ level: "silent" }),
    });
    await mesh.start(0);
    write(`tenants:\n${tenant("acme")}` + policy("acme", "xfcc").replace("callers:\n", "callers:\n  xfccTrustedHops: 1\n"));
    expect(await mesh.reload()).toBe(true); // 1 is the default: nothing changed
    write(`tenants:\n${tenant("acme")}` + policy("acme", "xfcc").replace("callers:\n", "callers:\n  xfccTrustedHops: 2\n"));
    await expect(mesh.reload()).resolves.toBe(false);
  });

  it("refuses a tenant that verifies attestation when the service has no MDS BLOB, as the start does", async () => {
    write(`defaultTenant: acme\ntenants:\n${tenant("acme")}${tenant("globex").replace("}", ", attestation: {conveyance: direct}}")}` + policy("acme"));
    expect(await reloader.reload()).toBe(false);
    expect(() => tenants.resolve("globex")).toThrow(/tenant/);
    expect(logs[0]!.error).toMatch(/globex verify attestation .*set MDS_BLOB_FILE/);
  });

  it("keeps the running configuration when the file disappears", async () => {
    rmSync(path);
    expect(await reloader.reload()).toBe(false);
    expect(tenants.resolve("acme").id).toBe("acme");
    expect(logs.map((l) => l.event)).toEqual(["tenants_reload_failed"]);
  });
});
