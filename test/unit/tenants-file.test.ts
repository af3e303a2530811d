import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { parseTenantsFile } from "../../src/tenants/tenants-file.js";
import { SUPPORTED_ALGORITHMS } from "../../src/webauthn/algorithms.js";
import { atLeast } from "../../src/webauthn/user-verification.js";

const DEFAULTS = { challengeTtlSeconds: 300, sessionTtlSeconds: 3600 };
const ANDROID = "android:apk-key-hash:" + "A".repeat(43);

const TWO_TENANTS = `
defaultTenant: acme
tenants:
  - id: acme
    rpId: acme.example
    rpName: Acme
    origins: [https://acme.example, "${ANDROID}"]
    userVerification: required
    algorithms: [-7, -8]
    attestation: { conveyance: direct, allowBackupEligible: false }
    assertion: { cloneResponse: refuse }
    challengeTtlSeconds: 120
  - id: globex
    rpId: globex.example
    rpName: Globex
    origins: [https://login.globex.example]
`;

function errorOf(text: string): string {
  try {
    parseTenantsFile(text, "/etc/dynauthn/tenants.yaml", DEFAULTS);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the file to be refused");
}

describe("the tenants file", () => {
  it("parses tenants with their policies and fills defaults", () => {
    const file = parseTenantsFile(TWO_TENANTS, "t.yaml", DEFAULTS);
    expect(file.defaultTenant).toBe("acme");
    const [acme, globex] = file.tenants;
    expect(acme).toMatchObject({
      id: "acme",
      origins: ["https://acme.example", ANDROID],
      userVerification: "required",
      algorithms: [-7, -8],
      attestation: { conveyance: "direct", allowBackupEligible: false, aaguidAllow: [] },
      assertion: { cloneResponse: "refuse", backupEligibilityMismatch: "accept" },
      challengeTtlSeconds: 120,
      sessionTtlSeconds: 3600,
    });
    expect(globex).toMatchObject({
      userVerification: "preferred",
      algorithms: [...SUPPORTED_ALGORITHMS],
      attestation: { conveyance: "none", allowBackupEligible: true },
      assertion: { cloneResponse: "flag", backupEligibilityMismatch: "accept" },
      challengeTtlSeconds: 300,
    });
    expect(file.callers).toBeUndefined();
  });

  it("a single tenant is the default without defaultTenant", () => {
    const file = parseTenantsFile("tenants: [{id: solo, rpId: solo.example, rpName: Solo, origins: [https://solo.example]}]", "t.yaml", DEFAULTS);
    expect(file.defaultTenant).toBe("solo");
  });

  it.each([
    ["tenants: [", "(file): not valid YAML"],
    ["{}", "tenants:"],
    [TWO_TENANTS.replace("defaultTenant: acme\n", ""), "defaultTenant: required when the file declares several tenants"],
    [TWO_TENANTS.replace("defaultTenant: acme", "defaultTenant: nobody"), "defaultTenant: names no tenant in this file"],
    [TWO_TENANTS.replace("id: globex", "id: acme"), "tenants[acme].id: duplicate tenant id acme"],
    [TWO_TENANTS.replace("https://login.globex.example", "https://login.globex.example/path"), "tenants[globex].origins[0]: must be a web origin"],
    [TWO_TENANTS.replace(ANDROID, "android:apk-key-hash:short"), "tenants[acme].origins[1]: must be a web origin"],
    [TWO_TENANTS.replace("[-7, -8]", "[-7, -65535]"), "tenants[acme].algorithms[1]: must be one of"],
    [TWO_TENANTS.replace("[-7, -8]", "[-7, -7]"), "tenants[acme].algorithms: must not repeat"],
    [TWO_TENANTS.replace("userVerification: required", "userVerification: always"), "tenants[acme].userVerification"],
    [TWO_TENANTS.replace("conveyance: direct", "conveyance: maybe"), "tenants[acme].attestation.conveyance"],
    [TWO_TENANTS.replace("cloneResponse: refuse", "cloneResponse: block"), "tenants[acme].assertion.cloneResponse"],
    [TWO_TENANTS.replace("cloneResponse: refuse", "backupEligibilityMismatch: ignore"), "tenants[acme].assertion.backupEligibilityMismatch"],
    [TWO_TENANTS.replace("cloneResponse: refuse", "cloneRespnse: refuse"), "tenants[acme].assertion: Unrecognized key"],
    [TWO_TENANTS.replace("challengeTtlSeconds: 120", "challengeTtlSeconds: 1"), "tenants[acme].challengeTtlSeconds"],
    [TWO_TENANTS.replace("rpName: Globex", "rpName: Globex\n    rpNmae: typo"), "tenants[globex]: Unrecognized key"],
    [TWO_TENANTS.replace("id: globex", "id: Globex_Inc"), "tenants[Globex_Inc].id: must be 1-63 lowercase"],
    [TWO_TENANTS + "callers:\n  rules:\n    - {identity: spiffe://x, methods: [NoSuchRpc], tenants: [acme]}\n", "callers.rules[0].methods[0]: matches no RPC"],
    [TWO_TENANTS + "callers:\n  rules:\n    - {identity: spiffe://x, methods: ['*'], tenants: [initech]}\n", "callers.rules[0].tenants[0]: names no tenant"],
    [TWO_TENANTS + "callers:\n  anonymous: {methods: ['*'], tenants: ['*']}\n", "callers.anonymous: needs allowAnonymousCallers: true"],
    [TWO_TENANTS + "callers:\n  rules:\n    - {identity: a, methods: ['*'], tenants: ['*']}\n    - {identity: a, methods: ['*'], tenants: ['*']}\n", "callers.rules[1].identity: duplicate identity a"],
  ])("refuses %#, naming the file and the field", (text, expected) => {
    const message = errorOf(text);
    expect(message).toContain("invalid tenants file /etc/dynauthn/tenants.yaml (DYNAUTHN_CONFIG_FILE)");
    expect(message).toContain(expected);
  });
});

describe("loadConfig with DYNAUTHN_CONFIG_FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "dynauthn-tenants-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("the file's tenants replace the environment's; CHALLENGE/SESSION_TTL_SECONDS are their defaults", () => {
    const config = loadConfig({ DYNAUTHN_CONFIG_FILE: write("two.yaml", TWO_TENANTS), RP_ID: "ignored.example", SESSION_TTL_SECONDS: "900" });
    expect(config.tenants.map((t) => t.id)).toEqual(["acme", "globex"]);
    expect(config.tenant.id).toBe("acme");
    expect(config.tenants[1]!.sessionTtlSeconds).toBe(900);
    expect(Object.isFrozen(config.tenants[0]!.origins)).toBe(true);
  });

  it("without a file the environment defines one tenant with the default policies", () => {
    const config = loadConfig({ RP_ID: "example.com" });
    expect(config.tenants).toEqual([config.tenant]);
    expect(config.tenant).toMatchObject({ rpId: "example.com", userVerification: "preferred", algorithms: SUPPORTED_ALGORITHMS });
    expect(config.callers).toBeUndefined();
  });

  it("a missing or bad file is a ConfigError naming it", () => {
    expect(() => loadConfig({ DYNAUTHN_CONFIG_FILE: join(dir, "missing.yaml") })).toThrow(/missing\.yaml.*\n.*cannot be read: ENOENT/);
    expect(() => loadConfig({ DYNAUTHN_CONFIG_FILE: write("bad.yaml", "tenants: []") })).toThrow(ConfigError);
  });

  it("a caller policy needs TLS_CLIENT_CA_FILE unless xfcc or allowAnonymousCallers", () => {
    const policy = "callers:\n  rules:\n    - {identity: spiffe://a, methods: ['*'], tenants: ['*']}\n";
    const file = write("policy.yaml", TWO_TENANTS + policy);
    expect(() => loadConfig({ DYNAUTHN_CONFIG_FILE: file })).toThrow(/TLS_CLIENT_CA_FILE: required by the caller policy/);
    const tls = { TLS_CERT_FILE: "/c", TLS_KEY_FILE: "/k", TLS_CLIENT_CA_FILE: "/ca" };
    expect(loadConfig({ DYNAUTHN_CONFIG_FILE: file, ...tls }).callers?.rules).toHaveLength(1);
    expect(loadConfig({ DYNAUTHN_CONFIG_FILE: file, ...tls }).tls?.clientCaFile).toBe("/ca");
    const mesh = write("mesh.yaml", TWO_TENANTS + policy.replace("callers:\n", "callers:\n  callerIdentity: xfcc\n"));
    expect(loadConfig({ DYNAUTHN_CONFIG_FILE: mesh }).callers?.callerIdentity).toBe("xfcc");
    const open = write("open.yaml", TWO_TENANTS + policy.replace("callers:\n", "callers:\n  allowAnonymousCallers: true\n"));
    expect(loadConfig({ DYNAUTHN_CONFIG_FILE: open }).callers?.allowAnonymousCallers).toBe(true);
  });

  it("TLS_CLIENT_CA_FILE needs TLS", () => {
    expect(() => loadConfig({ TLS_CLIENT_CA_FILE: "/ca" })).toThrow(/TLS_CLIENT_CA_FILE: needs TLS_CERT_FILE/);
  });
});

describe("a tenant's user-verification floor", () => {
  it.each([
    ["required", "preferred", "required"],
    ["required", "discouraged", "required"],
    ["preferred", "discouraged", "preferred"],
    ["preferred", "required", "required"],
    ["discouraged", "discouraged", "discouraged"],
  ] as const)("floor %s, asked %s → %s", (floor, asked, effective) => {
    expect(atLeast(floor, asked)).toBe(effective);
  });
});
