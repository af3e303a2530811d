import { describe, expect, it } from "vitest";
import { firstUriSan, peerCertificateIdentity } from "../../src/callers/identity.js";
import { GUARDED_PROCEDURES } from "../../src/callers/guarded-procedures.js";
import { ANONYMOUS_MAY_CALL, CallerAuthorizer, callerPolicySchema } from "../../src/callers/policy.js";

const ACCOUNTS = "spiffe://cluster.local/ns/accounts/sa/account-service";
const GATEWAY = "spiffe://cluster.local/ns/edge/sa/gateway";

const policy = callerPolicySchema.parse({
  rules: [
    { identity: ACCOUNTS, methods: ["*Registration", "*Credential*", "DeleteUser", "*Session*", "ListAuditEvents"], tenants: ["acme"] },
    { identity: GATEWAY, methods: ["*Authentication", "VerifyOperation", "envoy.service.auth.v3.Authorization/Check"], tenants: ["*"] },
  ],
});
const authorizer = new CallerAuthorizer(policy);
const AUTH = "authn.v1.AuthService";

describe("the caller policy", () => {
  it.each([
    [ACCOUNTS, `${AUTH}/BeginRegistration`, "acme", true],
    [ACCOUNTS, `${AUTH}/RevokeCredential`, "acme", true],
    [ACCOUNTS, `${AUTH}/ListCredentials`, "acme", true],
    [ACCOUNTS, `${AUTH}/RevokeAllSessions`, "acme", true],
    [ACCOUNTS, `${AUTH}/BeginRegistration`, "globex", false],
    [ACCOUNTS, `${AUTH}/FinishAuthentication`, "acme", false],
    [ACCOUNTS, "envoy.service.auth.v3.Authorization/Check", "acme", false],
    [GATEWAY, `${AUTH}/BeginAuthentication`, "globex", true],
    [GATEWAY, `${AUTH}/VerifyOperation`, "acme", true],
    [GATEWAY, "envoy.service.auth.v3.Authorization/Check", "acme", true],
    [GATEWAY, `${AUTH}/BeginRegistration`, "acme", false],
    [GATEWAY, `${AUTH}/ListCredentials`, "acme", false],
    ["spiffe://cluster.local/ns/other/sa/x", `${AUTH}/BeginAuthentication`, "acme", false],
    ["", `${AUTH}/BeginAuthentication`, "acme", false],
  ])("%s calling %s for %s: %s", (caller, procedure, tenant, allowed) => {
    expect(authorizer.decide(caller, procedure, tenant).allowed).toBe(allowed);
  });

  it("says why it refuses", () => {
    expect(authorizer.decide(ACCOUNTS, `${AUTH}/BeginRegistration`, "globex")).toEqual({ allowed: false, why: "tenant not allowed for caller" });
    expect(authorizer.decide(GATEWAY, `${AUTH}/DeleteUser`, "acme")).toEqual({ allowed: false, why: "method not allowed for caller" });
    expect(authorizer.decide("x", `${AUTH}/DeleteUser`, "acme")).toEqual({ allowed: false, why: "caller has no rule" });
    expect(authorizer.decide("", `${AUTH}/DeleteUser`, "acme")).toEqual({ allowed: false, why: "anonymous caller" });
  });

  it("an RPC that serves no tenant (GetJwks) needs only the method", () => {
    const p = new CallerAuthorizer(callerPolicySchema.parse({ rules: [{ identity: "a", methods: ["GetJwks"], tenants: ["acme"] }] }));
    expect(p.decide("a", `${AUTH}/GetJwks`, undefined).allowed).toBe(true);
    expect(p.decide("a", `${AUTH}/GetJwks`, "globex").allowed).toBe(false);
  });

  it("a glob with '/' matches the full procedure, one without the method name only", () => {
    const p = new CallerAuthorizer(callerPolicySchema.parse({ rules: [{ identity: "a", methods: ["authn.v1.AuthService/*"], tenants: ["*"] }] }));
    expect(p.decide("a", `${AUTH}/GetJwks`, "t").allowed).toBe(true);
    expect(p.decide("a", "envoy.service.auth.v3.Authorization/Check", "t").allowed).toBe(false);
  });

  it("a full-procedure pattern is checked like a method-name one (matches some RPC; anonymous only where allowed)", () => {
    const parse = (policy: object) => callerPolicySchema.safeParse(policy).success;
    expect(parse({ rules: [{ identity: "a", methods: ["authn.v1.AuthService/NoSuchRpc"], tenants: ["*"] }] })).toBe(false);
    expect(parse({ rules: [{ identity: "a", methods: ["authn.v1.AuthService/GetJwks"], tenants: ["*"] }] })).toBe(true);
    expect(parse({ allowAnonymousCallers: true, anonymous: { methods: [`${AUTH}/GetJwks`], tenants: ["*"] } })).toBe(true);
    expect(parse({ allowAnonymousCallers: true, anonymous: { methods: [`${AUTH}/DeleteUser`], tenants: ["*"] } })).toBe(false);
  });

  it("anonymous calls get only the anonymous grant, and only with allowAnonymousCallers", () => {
    const open = new CallerAuthorizer(
      callerPolicySchema.parse({ allowAnonymousCallers: true, anonymous: { methods: ["GetJwks"], tenants: ["*"] } }),
    );
    expect(open.decide("", `${AUTH}/GetJwks`, "t").allowed).toBe(true);
    expect(open.decide("", `${AUTH}/BeginRegistration`, "t").allowed).toBe(false);
    expect(() => callerPolicySchema.parse({ anonymous: { methods: ["GetJwks"], tenants: ["*"] } })).toThrow(/allowAnonymousCallers/);
  });

  it("never lets an anonymous call register or manage credentials, sessions or the trail, whatever the grant says", () => {
    const anonymous = (methods: string[]) => callerPolicySchema.safeParse({ allowAnonymousCallers: true, anonymous: { methods, tenants: ["*"] } });
    for (const methods of [["*"], ["BeginRegistration"], ["*Credential*"], ["authn.v1.AuthService/*"], ["DeleteUser"], ["ClearCloneWarning"], ["*Clone*"], ["RevokeSession"], ["ListAuditEvents"]]) {
      const parsed = anonymous(methods);
      expect(parsed.success, methods.join()).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/anonymous callers may never register or manage/);
    }
    expect(anonymous(["BeginAuthentication", "FinishAuthentication", "VerifyOperation", "GetJwks", "Check"]).success).toBe(true);
    // And decide() refuses them even for a grant built around the schema.
    const open = new CallerAuthorizer({ callerIdentity: "mtls", allowAnonymousCallers: true, anonymous: { methods: ["*"], tenants: ["*"] }, rules: [] });
    for (const procedure of GUARDED_PROCEDURES.filter((p) => !ANONYMOUS_MAY_CALL.has(p))) expect(open.decide("", procedure, "t").allowed, procedure).toBe(false);
    expect(open.decide("", `${AUTH}/BeginAuthentication`, "t").allowed).toBe(true);
  });
});

describe("xfccTrustedHops", () => {
  it("is a small positive count, and only for callerIdentity xfcc", () => {
    expect(callerPolicySchema.parse({ callerIdentity: "xfcc", xfccTrustedHops: 2 }).xfccTrustedHops).toBe(2);
    expect(callerPolicySchema.parse({ callerIdentity: "xfcc" }).xfccTrustedHops).toBeUndefined();
    for (const bad of [0, 9, 1.5, "1"]) expect(callerPolicySchema.safeParse({ callerIdentity: "xfcc", xfccTrustedHops: bad }).success, String(bad)).toBe(false);
    const mtls = callerPolicySchema.safeParse({ xfccTrustedHops: 1 });
    expect(mtls.success).toBe(false);
    expect(mtls.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["xfccTrustedHops", "needs callerIdentity: xfcc"]]);
  });
});

describe("caller identity", () => {
  it("takes the first URI SAN as Node renders subjectaltname", () => {
    expect(firstUriSan(`DNS:accounts.svc, URI:${ACCOUNTS}, URI:spiffe://second`)).toBe(ACCOUNTS);
    expect(firstUriSan("DNS:only.example")).toBe("");
    expect(firstUriSan(undefined)).toBe("");
    // A SAN value holding ", URI:" is JSON-quoted by Node and cannot pose as a second entry.
    expect(firstUriSan('DNS:"evil.example, URI:spiffe://admin"')).toBe("");
    expect(firstUriSan('URI:"spiffe://a/b,c"')).toBe("spiffe://a/b,c");
    expect(firstUriSan(`IP Address:10.0.0.1, X400Name:<unsupported>, URI:${ACCOUNTS}`)).toBe(ACCOUNTS);
    // Text Node would never write names no one (no CN fallback): the read does not resume inside it.
    expect(firstUriSan('DNS:a, garbage "x, URI:spiffe://admin"')).toBeUndefined();
    expect(firstUriSan('URI:"spiffe://\\x"')).toBeUndefined();
    expect(firstUriSan(`URI:${ACCOUNTS}, DNS:a"b`)).toBeUndefined();
  });

  it("a verified certificate is its URI SAN, else its CN; one whose SAN text cannot be read is no one", () => {
    const socket = (subjectaltname: string | undefined, CN: unknown = "billing") => ({ authorized: true, getPeerCertificate: () => ({ subject: { CN }, subjectaltname }) });
    expect(peerCertificateIdentity(socket(`URI:${ACCOUNTS}`))).toEqual({ identity: ACCOUNTS });
    expect(peerCertificateIdentity(socket("DNS:billing.svc"))).toEqual({ identity: "billing" });
    expect(peerCertificateIdentity(socket('DNS:a, garbage "x, URI:spiffe://admin"'))).toEqual({ rejected: "subjectAltName unreadable" });
    expect(peerCertificateIdentity({ ...socket(`URI:${ACCOUNTS}`), authorized: false })).toEqual({ identity: "" });
    expect(peerCertificateIdentity(socket(undefined, ["a", "b"]))).toEqual({ rejected: "more than one CN" });
    expect(peerCertificateIdentity({ authorized: true, getPeerCertificate: () => ({ subject: {}, subjectaltname: "DNS:x" }) })).toEqual({ identity: "" });
  });

  it("URI SANs and CNs are separate namespaces: a CN shaped like a URI names no one (identity break 1)", () => {
    const socket = (subjectaltname: string | undefined, CN: string) => ({ authorized: true, getPeerCertificate: () => ({ subject: { CN }, subjectaltname }) });
    for (const cn of [ACCOUNTS, "https://accounts.example/", "urn:x", "SPIFFE://cluster.local/ns/a", "a+b.c-d:"]) {
      expect(peerCertificateIdentity(socket("DNS:billing.svc", cn)), cn).toEqual({ rejected: "CN starts with a URI scheme; only a URI SAN names a URI identity" });
      expect(peerCertificateIdentity(socket(undefined, cn)), cn).toHaveProperty("rejected");
    }
    // Names that merely hold a ':' later, or start with something no scheme may, stay CN identities.
    for (const cn of ["account-service", "billing svc: prod", "1billing:x", " spiffe://x", "-a:b"]) {
      expect(peerCertificateIdentity(socket(undefined, cn)), cn).toEqual({ identity: cn });
    }
    // A URI SAN is still taken over a URI-shaped CN; one that is not a URI is refused, not taken as a name.
    expect(peerCertificateIdentity(socket(`URI:${ACCOUNTS}`, "spiffe://other"))).toEqual({ identity: ACCOUNTS });
    expect(peerCertificateIdentity(socket("URI:account-service", "x"))).toEqual({ rejected: "URI is not a URI" });
  });
});
