import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { GUARDED_PROCEDURES, GUARDED_SERVICES } from "../../src/callers/guarded-procedures.js";
import { ANONYMOUS_MAY_CALL, CallerAuthorizer, callerPolicySchema } from "../../src/callers/policy.js";

/**
 * Who may ever call each RPC the server has descriptors for (every service in src/gen):
 * - `open`: not guarded by the caller policy (health and reflection: probes and grpcurl);
 * - `anonymous`: guarded, and a policy's `anonymous` grant may open it to calls without identity;
 * - `identified`: guarded, and only identified callers with a rule for it may call it.
 * A new RPC or service fails the first test until it is classified here.
 */
const CLASSIFIED: Readonly<Record<string, "open" | "anonymous" | "identified">> = {
  "authn.v1.AuthService/BeginRegistration": "identified",
  "authn.v1.AuthService/FinishRegistration": "identified",
  "authn.v1.AuthService/BeginAuthentication": "anonymous",
  "authn.v1.AuthService/FinishAuthentication": "anonymous",
  "authn.v1.AuthService/ListCredentials": "identified",
  "authn.v1.AuthService/RenameCredential": "identified",
  "authn.v1.AuthService/RevokeCredential": "identified",
  "authn.v1.AuthService/ClearCloneWarning": "identified",
  "authn.v1.AuthService/DeleteUser": "identified",
  "authn.v1.AuthService/UpdateUser": "identified",
  "authn.v1.AuthService/ListSessions": "identified",
  "authn.v1.AuthService/RevokeSession": "identified",
  "authn.v1.AuthService/RevokeAllSessions": "identified",
  "authn.v1.AuthService/ListAuditEvents": "identified",
  "authn.v1.AuthService/VerifyOperation": "anonymous",
  "authn.v1.AuthService/GetJwks": "anonymous",
  "authn.v1.AuthService/GetRelatedOrigins": "anonymous",
  "authn.v1.AuthService/GetPasskeyEndpoints": "anonymous",
  "envoy.service.auth.v3.Authorization/Check": "anonymous",
  "grpc.health.v1.Health/Check": "open",
  "grpc.health.v1.Health/Watch": "open",
  "grpc.health.v1.Health/List": "open",
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo": "open",
  "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": "open",
};

/** Every service descriptor exported by the generated code. */
async function generatedServices(): Promise<DescService[]> {
  const gen = fileURLToPath(new URL("../../src/gen/", import.meta.url));
  const files = readdirSync(gen, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith("_pb.ts"));
  const modules = await Promise.all(files.map((f) => import(`${gen}${f}`) as Promise<Record<string, unknown>>));
  return modules.flatMap((m) => Object.values(m).filter((v): v is DescService => (v as DescService | undefined)?.kind === "service"));
}

const procedures = (await generatedServices()).flatMap((s) => s.methods.map((m) => ({ service: s.typeName, procedure: `${s.typeName}/${m.name}` })));

/** Anonymous calls granted everything: only the allow list limits them. */
const anonymousEverything = new CallerAuthorizer({ callerIdentity: "mtls", allowAnonymousCallers: true, anonymous: { methods: ["*"], tenants: ["*"] }, rules: [] });
const anonymousGrant = (pattern: string) => callerPolicySchema.safeParse({ allowAnonymousCallers: true, anonymous: { methods: [pattern], tenants: ["*"] } });

describe("who may ever call each RPC", () => {
  it("every RPC of every generated service is classified, and nothing else is", () => {
    expect(procedures.length).toBeGreaterThan(15);
    expect(procedures.map((p) => p.procedure).sort()).toEqual(Object.keys(CLASSIFIED).sort());
  });

  it("the caller policy's written-out list of guarded RPCs is every method of the guarded generated services", () => {
    const guarded = procedures.filter((p) => GUARDED_SERVICES.has(p.service)).map((p) => p.procedure);
    expect([...GUARDED_PROCEDURES].sort()).toEqual(guarded.sort());
    for (const service of GUARDED_SERVICES) expect(procedures.some((p) => p.service === service), service).toBe(true);
  });

  it.each(procedures)("$procedure", ({ service, procedure }) => {
    const cls = CLASSIFIED[procedure];
    expect(cls, "unclassified").toBeDefined();
    expect(GUARDED_SERVICES.has(service)).toBe(cls !== "open");
    if (cls === "open") return;
    expect(ANONYMOUS_MAY_CALL.has(procedure)).toBe(cls === "anonymous");
    expect(anonymousEverything.decide("", procedure, "t").allowed).toBe(cls === "anonymous");
    expect(anonymousGrant(procedure).success).toBe(cls === "anonymous");
  });

  it("an RPC nobody has classified is closed to anonymous callers", () => {
    expect(anonymousEverything.decide("", "authn.v1.AuthService/SomeFutureRpc", "t")).toEqual({ allowed: false, why: "anonymous caller" });
  });
});
