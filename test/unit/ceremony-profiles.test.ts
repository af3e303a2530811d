import { describe, expect, it } from "vitest";
import { profileOf } from "../../src/tenants/ceremony-profiles.js";
import { parseTenantsFile, tenantConfigsOf } from "../../src/tenants/tenants-file.js";
import { allowedAlgorithms, ceremonyChoices, type CeremonyDefaults } from "../../src/webauthn/ceremony-profile.js";
import { creationOptions, requestOptions } from "../../src/webauthn/options.js";
import { TENANT_DEFAULTS, tenantsFileRefusal } from "../support/tenants-file.js";

const TENANT: CeremonyDefaults = { userVerification: "preferred", challengeTtlSeconds: 300, algorithms: [-8, -7, -257] };
/** A one-tenant file whose tenant carries `extra` (YAML lines, indented four spaces). */
const fileWith = (extra: string) => `
tenants:
  - id: acme
    rpId: acme.example
    rpName: Acme
    origins: [https://acme.example]
    algorithms: [-8, -7, -257]
    challengeTtlSeconds: 120
${extra}`;

describe("ceremony choices: request over profile over tenant", () => {
  it("without a profile or request: the tenant's defaults, no hints, nothing sealed", () => {
    expect(ceremonyChoices(TENANT, {})).toEqual({
      userVerification: "preferred",
      timeoutMs: 300_000,
      hints: [],
      attachment: undefined,
      residentKey: "required",
      algorithms: [-8, -7, -257],
      sealedAlgorithms: undefined,
    });
  });

  it("a profile sets every choice and seals its algorithms", () => {
    const profile = { userVerification: "required", timeoutSeconds: 60, hints: ["security-key"], attachment: "cross-platform", residentKey: "discouraged", algorithms: [-7] } as const;
    expect(ceremonyChoices(TENANT, { profile })).toEqual({
      userVerification: "required",
      timeoutMs: 60_000,
      hints: ["security-key"],
      attachment: "cross-platform",
      residentKey: "discouraged",
      algorithms: [-7],
      sealedAlgorithms: [-7],
    });
  });

  it("explicit request fields override the profile; request hints replace the profile's, in their order", () => {
    const profile = { hints: ["security-key", "hybrid"], attachment: "cross-platform", residentKey: "discouraged" } as const;
    const choices = ceremonyChoices(TENANT, { profile, hints: ["hybrid", "client-device"], attachment: "platform", residentKey: "preferred" });
    expect(choices).toMatchObject({ hints: ["hybrid", "client-device"], attachment: "platform", residentKey: "preferred" });
    expect(ceremonyChoices(TENANT, { profile, hints: [] }).hints).toEqual(["security-key", "hybrid"]);
  });

  it("a profile's user verification is a floor: a request may ask for more, never less", () => {
    const lax = { ...TENANT, userVerification: "discouraged" } as const;
    const required = { userVerification: "required" } as const;
    for (const asked of ["discouraged", "preferred", undefined] as const) {
      expect(ceremonyChoices(lax, { profile: required, userVerification: asked }).userVerification, String(asked)).toBe("required");
    }
    const preferred = { userVerification: "preferred" } as const;
    expect(ceremonyChoices(lax, { profile: preferred, userVerification: "required" }).userVerification).toBe("required");
    expect(ceremonyChoices(lax, { profile: preferred, userVerification: "discouraged" }).userVerification).toBe("preferred");
    expect(ceremonyChoices(lax, { profile: { userVerification: "discouraged" } }).userVerification).toBe("discouraged");
  });

  it("a profile or request below the tenant's user verification floor is raised to it", () => {
    const floor = { ...TENANT, userVerification: "required" } as const;
    expect(ceremonyChoices(floor, { profile: { userVerification: "discouraged" } }).userVerification).toBe("required");
    expect(ceremonyChoices(floor, { userVerification: "preferred" }).userVerification).toBe("required");
  });

  it("finish accepts the tenant's current algorithms narrowed to the sealed ones", () => {
    expect(allowedAlgorithms([-8, -7], undefined)).toEqual([-8, -7]);
    expect(allowedAlgorithms([-8, -7, -257], [-257, -7])).toEqual([-257, -7]);
    // A reload that dropped -7 from the tenant leaves nothing acceptable: the finish is refused.
    expect(allowedAlgorithms([-8], [-7])).toEqual([]);
  });
});

describe("hints in the options JSON", () => {
  const creation = {
    rpId: "example.com",
    rpName: "Example",
    challenge: "c",
    userHandle: "h",
    userName: "a",
    displayName: "A",
    timeoutMs: 1000,
    algorithms: [-7],
    excludeCredentials: [],
    attachment: undefined,
    residentKey: "required",
    userVerification: "preferred",
    attestation: "none",
    extensions: { credProps: true },
  } as const;
  const request = { rpId: "example.com", challenge: "c", timeoutMs: 1000, allowCredentials: [], userVerification: "preferred" } as const;

  it("are emitted in order when given", () => {
    expect(creationOptions({ ...creation, hints: ["client-device", "hybrid"] }).hints).toEqual(["client-device", "hybrid"]);
    expect(requestOptions({ ...request, hints: ["security-key"] }).hints).toEqual(["security-key"]);
  });

  it("are left out when there are none", () => {
    expect(creationOptions({ ...creation, hints: [] })).not.toHaveProperty("hints");
    expect(requestOptions(request)).not.toHaveProperty("hints");
  });
});

describe("profiles in the tenants file", () => {
  it("parse into a map on the tenant, and a request's name selects one", () => {
    const file = parseTenantsFile(
      fileWith(`    profiles:
      step-up: { userVerification: required, timeoutSeconds: 60, hints: [security-key, hybrid], algorithms: [-7] }
      sign-in: { attachment: platform, residentKey: preferred }`),
      "t.yaml",
      TENANT_DEFAULTS,
    );
    const tenant = tenantConfigsOf(file).defaultTenant;
    expect(profileOf(tenant, "step-up")).toEqual({ userVerification: "required", timeoutSeconds: 60, hints: ["security-key", "hybrid"], algorithms: [-7] });
    expect(profileOf(tenant, "sign-in")).toEqual({ attachment: "platform", residentKey: "preferred" });
    expect(profileOf(tenant, "")).toBeUndefined();
  });

  it("an unknown or malformed name, or one an object inherits, is FIELD_INVALID", () => {
    const tenant = tenantConfigsOf(parseTenantsFile(fileWith("    profiles: { admin: { userVerification: required } }"), "t.yaml", TENANT_DEFAULTS)).defaultTenant;
    for (const name of ["nope", "constructor", "__proto__", "toString", "ADMIN", "admin ", "x".repeat(100)]) {
      expect(() => profileOf(tenant, name), name).toThrow(expect.objectContaining({ reason: "FIELD_INVALID", metadata: { field: "profile" } }));
    }
    const noProfiles = tenantConfigsOf(parseTenantsFile(fileWith(""), "t.yaml", TENANT_DEFAULTS)).defaultTenant;
    expect(() => profileOf(noProfiles, "admin")).toThrow(expect.objectContaining({ reason: "FIELD_INVALID" }));
  });

  it.each([
    ["a bad name", "    profiles: { Admin: {} }", "tenants[acme].profiles.Admin: must be 1-32 lowercase letters"],
    ["an unknown field", "    profiles: { admin: { uv: required } }", "tenants[acme].profiles.admin"],
    ["an unknown hint", "    profiles: { admin: { hints: [usb] } }", "tenants[acme].profiles.admin.hints[0]"],
    ["a repeated hint", "    profiles: { admin: { hints: [hybrid, hybrid] } }", "must not repeat a hint"],
    ["an attachment of another kind", "    profiles: { admin: { attachment: roaming } }", "tenants[acme].profiles.admin.attachment"],
    ["a user verification of another kind", "    profiles: { admin: { userVerification: always } }", "tenants[acme].profiles.admin.userVerification"],
    ["an algorithm the tenant does not offer", "    profiles: { admin: { algorithms: [-7, -35] } }", "tenants[acme].profiles.admin.algorithms[1]: must be one of the tenant's algorithms"],
    ["a repeated algorithm", "    profiles: { admin: { algorithms: [-7, -7] } }", "must not repeat an algorithm"],
    ["no algorithms", "    profiles: { admin: { algorithms: [] } }", "tenants[acme].profiles.admin.algorithms"],
    ["a timeout longer than the challenge lives", "    profiles: { admin: { timeoutSeconds: 121 } }", "timeoutSeconds: must be at most the tenant's challengeTtlSeconds (120)"],
    ["a timeout too short to use", "    profiles: { admin: { timeoutSeconds: 5 } }", "tenants[acme].profiles.admin.timeoutSeconds"],
  ])("refuse %s, naming the field", (_what, extra, message) => {
    expect(tenantsFileRefusal(fileWith(extra))).toContain(message);
  });
});
