import picomatch from "picomatch";
import { z } from "zod";
import { AUTH_SERVICE, EXT_AUTHZ_SERVICE, GUARDED_PROCEDURES } from "./guarded-procedures.js";

/**
 * Which calling service may call which RPC for which tenant (the `callers` block of the tenants
 * file). Health and reflection are never guarded: probes and grpcurl need them.
 */

/**
 * The only RPCs an anonymous call may ever make in a configured deployment, whatever
 * `callers.anonymous` says: sign-in, step-up, the public keys, the public well-known documents and
 * ext_authz's Check. Everything
 * else (enrolling a passkey on someone's account, managing credentials, sessions, the audit
 * trail) needs an identified caller. An allow list, so an RPC added later stays closed to
 * anonymous callers until it is added here (test/unit/caller-policy.test.ts classifies every RPC).
 */
export const ANONYMOUS_MAY_CALL: ReadonlySet<string> = new Set([
  `${AUTH_SERVICE}/BeginAuthentication`,
  `${AUTH_SERVICE}/FinishAuthentication`,
  `${AUTH_SERVICE}/VerifyOperation`,
  `${AUTH_SERVICE}/GetJwks`,
  // Public documents (served to any browser at https://{rpId}/.well-known/...).
  `${AUTH_SERVICE}/GetRelatedOrigins`,
  `${AUTH_SERVICE}/GetPasskeyEndpoints`,
  `${EXT_AUTHZ_SERVICE}/Check`,
]);

/** The guarded RPCs no anonymous call may make. */
const neverAnonymous = GUARDED_PROCEDURES.filter((p) => !ANONYMOUS_MAY_CALL.has(p));

const methodName = (procedure: string) => procedure.slice(procedure.indexOf("/") + 1);

/**
 * A method pattern is a glob (picomatch): with a '/', matched against the full procedure
 * (`authn.v1.AuthService/*`); without, against the method name only (`*Credential*`, `Check`).
 */
function methodMatcher(pattern: string): (procedure: string) => boolean {
  const isMatch = picomatch(pattern, { nocase: false, dot: true });
  // One argument only: picomatch's second (returnObject) would turn filter's index into a truthy object.
  return pattern.includes("/") ? (procedure) => isMatch(procedure) : (procedure) => isMatch(methodName(procedure));
}

const methodPattern = z
  .string()
  .min(1)
  .refine((p) => GUARDED_PROCEDURES.some(methodMatcher(p)), "matches no RPC of authn.v1.AuthService or envoy.service.auth.v3.Authorization");

const grantSchema = {
  methods: z.array(methodPattern).min(1),
  /** Tenant ids, or "*" for every tenant. */
  tenants: z.array(z.string().min(1)).min(1),
};

const ruleSchema = z
  .object({
    /** The verified identity: a URI SAN (SPIFFE ID) or, without one, the subject CN. Exact match. */
    identity: z.string().min(1).max(2048),
    ...grantSchema,
  })
  .strict();

export const callerPolicySchema = z
  .object({
    /**
     * `mtls`: the client certificate this process verified (TLS_CLIENT_CA_FILE). `xfcc`: the
     * x-forwarded-client-cert header a mesh sidecar (Envoy) sets after terminating mTLS.
     */
    callerIdentity: z.enum(["mtls", "xfcc"]).default("mtls"),
    /**
     * xfcc only: how many proxies append trusted elements to x-forwarded-client-cert (like
     * Envoy's xff_num_trusted_hops). The caller is the element this many from the end, the one
     * the outermost trusted proxy appended; 1 (default) = this pod's sidecar.
     */
    xfccTrustedHops: z.number().int().min(1).max(8).optional(),
    /** Start without a way to identify callers (no TLS_CLIENT_CA_FILE in mtls mode); logged loudly. */
    allowAnonymousCallers: z.boolean().default(false),
    /** What a call without an identity may do; only with allowAnonymousCallers. Default: nothing. */
    anonymous: z.object(grantSchema).strict().optional(),
    rules: z.array(ruleSchema).default([]),
  })
  .strict()
  .superRefine((policy, ctx) => {
    if (policy.xfccTrustedHops !== undefined && policy.callerIdentity !== "xfcc") {
      ctx.addIssue({ code: "custom", path: ["xfccTrustedHops"], message: "needs callerIdentity: xfcc" });
    }
    if (policy.anonymous && !policy.allowAnonymousCallers) {
      ctx.addIssue({ code: "custom", path: ["anonymous"], message: "needs allowAnonymousCallers: true" });
    }
    policy.anonymous?.methods.forEach((pattern, i) => {
      const forbidden = neverAnonymous.filter(methodMatcher(pattern));
      if (forbidden.length > 0) {
        ctx.addIssue({
          code: "custom",
          path: ["anonymous", "methods", i],
          message: `anonymous callers may never register or manage credentials, sessions or the audit trail, nor call any RPC but ${[...ANONYMOUS_MAY_CALL].map(methodName).join(", ")} (matches ${forbidden.map(methodName).join(", ")})`,
        });
      }
    });
    const seen = new Set<string>();
    policy.rules.forEach((rule, i) => {
      if (seen.has(rule.identity)) {
        ctx.addIssue({ code: "custom", path: ["rules", i, "identity"], message: `duplicate identity ${rule.identity}` });
      }
      seen.add(rule.identity);
    });
  });

export type CallerPolicy = Readonly<z.infer<typeof callerPolicySchema>>;

interface CompiledGrant {
  readonly methods: readonly ((procedure: string) => boolean)[];
  readonly tenants: ReadonlySet<string>;
}

export type CallDecision = { readonly allowed: true } | { readonly allowed: false; readonly why: string };

/** The policy with its globs compiled once. */
export class CallerAuthorizer {
  #policy!: CallerPolicy;
  #rules!: ReadonlyMap<string, CompiledGrant>;
  #anonymous: CompiledGrant | undefined;

  constructor(policy: CallerPolicy) {
    this.replace(policy);
  }

  get policy(): CallerPolicy {
    return this.#policy;
  }

  /** A reloaded policy; the identity source and anonymous switch are fixed at start (see reloader). */
  replace(policy: CallerPolicy): void {
    const compile = (g: { methods: readonly string[]; tenants: readonly string[] }): CompiledGrant => ({
      methods: g.methods.map(methodMatcher),
      tenants: new Set(g.tenants),
    });
    this.#rules = new Map(policy.rules.map((r) => [r.identity, compile(r)]));
    this.#anonymous = policy.allowAnonymousCallers && policy.anonymous ? compile(policy.anonymous) : undefined;
    this.#policy = policy;
  }

  /**
   * `caller` "" is an anonymous call; `tenant` is the tenant id the call names (the default for an
   * empty field), undefined for an RPC that serves no particular tenant (GetJwks).
   */
  decide(caller: string, procedure: string, tenant: string | undefined): CallDecision {
    const grant = caller ? this.#rules.get(caller) : this.#anonymous;
    if (!grant || (!caller && !ANONYMOUS_MAY_CALL.has(procedure))) return { allowed: false, why: caller ? "caller has no rule" : "anonymous caller" };
    if (!grant.methods.some((matches) => matches(procedure))) return { allowed: false, why: "method not allowed for caller" };
    if (tenant !== undefined && !grant.tenants.has("*") && !grant.tenants.has(tenant)) return { allowed: false, why: "tenant not allowed for caller" };
    return { allowed: true };
  }
}
