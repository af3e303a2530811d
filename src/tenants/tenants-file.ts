import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { attestationPolicySchema } from "../attestation/policy.js";
import { type CallerPolicy, callerPolicySchema } from "../callers/policy.js";
import type { TenantConfig, TenantDefaults } from "./tenant-config.js";
import { checkProfiles, profileMapOf, profilesSchema } from "./ceremony-profiles.js";
import { MAX_CHALLENGE_TTL_SECONDS, MAX_SESSION_TTL_SECONDS } from "../lifetimes.js";
import { SUPPORTED_ALGORITHMS } from "../webauthn/algorithms.js";
import { assertionPolicySchema, DEFAULT_ASSERTION_POLICY } from "../webauthn/assertion-policy.js";
import { checkRelatedOrigins } from "./related-origins.js";
import { isHttpsOrigin, isPublicHttpsUrl, isWebOrigin } from "./url-forms.js";

/**
 * The tenants file (DYNAUTHN_CONFIG_FILE, docs/tenants-and-callers.md): relying parties and the
 * caller policy. Parsed with `yaml` and validated with zod; every message names the file, the
 * tenant and the field.
 */

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const TENANT_ID_MESSAGE = "must be 1-63 lowercase letters, digits or '-'";
export const RP_ID_PATTERN = /^[a-z0-9.-]+$/;

/**
 * Android apps report `android:apk-key-hash:<base64url SHA-256 of the signing certificate>` as the
 * clientDataJSON origin (Credential Manager); iOS apps report the web origin of their associated
 * domain, so they need no origin of their own.
 */
const ANDROID_ORIGIN = /^android:apk-key-hash:[A-Za-z0-9_-]{43}$/;

const originSchema = z
  .string()
  .refine(
    (v) => isWebOrigin(v) || ANDROID_ORIGIN.test(v),
    "must be a web origin such as https://app.example.com or android:apk-key-hash:<43 base64url characters>",
  );

/** A related origin (WebAuthn Level 3 §5.11): the browser runs the ceremony there, so https only. */
export const relatedOriginSchema = z
  .string()
  .refine(isHttpsOrigin, "must be an https origin such as https://example.co.uk (scheme, host, optional port; no path)");

/** A passkey endpoint URL, stored as the URL standard serialises it. */
export const passkeyEndpointUrlSchema = z
  .string()
  .max(2048)
  .refine(isPublicHttpsUrl, "must be an absolute https URL without user name or password")
  .transform((v) => new URL(v).href);

/** COSE algorithm ids this service can verify (src/webauthn/algorithms.ts). */
const algorithmSchema = z
  .number()
  .int()
  .refine((id) => SUPPORTED_ALGORITHMS.includes(id), `must be one of ${SUPPORTED_ALGORITHMS.join(", ")}`);

const tenantSchema = (defaults: TenantDefaults) =>
  z
    .object({
      id: z.string().regex(TENANT_ID_PATTERN, TENANT_ID_MESSAGE),
      rpId: z.string().regex(RP_ID_PATTERN, "must be a registrable domain such as example.com or localhost"),
      rpName: z.string().min(1).max(128),
      origins: z.array(originSchema).min(1),
      userVerification: z.enum(["required", "preferred", "discouraged"]).default("preferred"),
      algorithms: z
        .array(algorithmSchema)
        .min(1)
        .refine((ids) => new Set(ids).size === ids.length, "must not repeat an algorithm")
        .default([...SUPPORTED_ALGORITHMS]),
      attestation: attestationPolicySchema.default(attestationPolicySchema.parse({})),
      assertion: assertionPolicySchema.default(DEFAULT_ASSERTION_POLICY),
      challengeTtlSeconds: z.number().int().min(10).max(MAX_CHALLENGE_TTL_SECONDS).default(defaults.challengeTtlSeconds),
      sessionTtlSeconds: z.number().int().min(60).max(MAX_SESSION_TTL_SECONDS).default(defaults.sessionTtlSeconds),
      profiles: profilesSchema.default({}),
      relatedOrigins: z.array(relatedOriginSchema).optional(),
      passkeyEndpoints: z.object({ enroll: passkeyEndpointUrlSchema.optional(), manage: passkeyEndpointUrlSchema.optional() }).strict().optional(),
    })
    .strict()
    .superRefine(checkProfiles)
    .superRefine(checkRelatedOrigins);

/** The part of a tenant its RP ID's well-known documents show: one per RP ID. */
const wellKnownOf = (t: TenantFileEntry) => JSON.stringify([t.relatedOrigins ?? [], t.passkeyEndpoints ?? null]);

const fileSchema = (defaults: TenantDefaults) =>
  z
    .object({
      defaultTenant: z.string().regex(TENANT_ID_PATTERN, TENANT_ID_MESSAGE).optional(),
      tenants: z.array(tenantSchema(defaults)).min(1),
      callers: callerPolicySchema.optional(),
    })
    .strict()
    .superRefine((file, ctx) => {
      const seen = new Set<string>();
      const byRpId = new Map<string, TenantFileEntry>();
      file.tenants.forEach((t, i) => {
        if (seen.has(t.id)) ctx.addIssue({ code: "custom", path: ["tenants", i, "id"], message: `duplicate tenant id ${t.id}` });
        seen.add(t.id);
        // https://{rpId}/.well-known/... is one document, whichever tenant the request meant.
        const first = byRpId.get(t.rpId);
        if (first && wellKnownOf(first) !== wellKnownOf(t)) {
          ctx.addIssue({
            code: "custom",
            path: ["tenants", i, "relatedOrigins"],
            message: `must equal tenant ${first.id}'s relatedOrigins and passkeyEndpoints: both use RP ID ${t.rpId}, which serves one document`,
          });
        }
        if (!first) byRpId.set(t.rpId, t);
      });
      if (file.defaultTenant !== undefined && !seen.has(file.defaultTenant)) {
        ctx.addIssue({ code: "custom", path: ["defaultTenant"], message: `names no tenant in this file` });
      }
      if (file.defaultTenant === undefined && file.tenants.length > 1) {
        ctx.addIssue({ code: "custom", path: ["defaultTenant"], message: "required when the file declares several tenants" });
      }
      file.callers?.rules.forEach((rule, i) =>
        rule.tenants.forEach((id, j) => {
          if (id !== "*" && !seen.has(id)) {
            ctx.addIssue({ code: "custom", path: ["callers", "rules", i, "tenants", j], message: `names no tenant in this file` });
          }
        }),
      );
    });

export type TenantFileEntry = z.infer<ReturnType<typeof tenantSchema>>;

export interface TenantsFile {
  readonly tenants: readonly TenantFileEntry[];
  /** The tenant an empty `tenant` field selects. */
  readonly defaultTenant: string;
  readonly callers: CallerPolicy | undefined;
}

/** The file's tenants as the service uses them, frozen; the default first. */
export function tenantConfigsOf(file: TenantsFile): { readonly defaultTenant: TenantConfig; readonly tenants: readonly TenantConfig[] } {
  const tenants = Object.freeze(
    file.tenants.map((t): TenantConfig =>
      Object.freeze({
        ...t,
        origins: Object.freeze([...t.origins]),
        relatedOrigins: Object.freeze([...(t.relatedOrigins ?? [])]),
        passkeyEndpoints: t.passkeyEndpoints && Object.freeze({ ...t.passkeyEndpoints }),
        algorithms: Object.freeze([...t.algorithms]),
        attestation: Object.freeze({ ...t.attestation }),
        assertion: Object.freeze({ ...t.assertion }),
        profiles: profileMapOf(t.profiles),
      }),
    ),
  );
  return { defaultTenant: tenants.find((t) => t.id === file.defaultTenant)!, tenants };
}

/** A path into the file, naming tenants by id rather than index: `tenants[acme].origins[1]`. */
function describePath(path: readonly PropertyKey[], raw: unknown): string {
  let out = "";
  path.forEach((key, i) => {
    if (typeof key === "number") {
      const id = i === 1 && path[0] === "tenants" ? tenantIdAt(raw, key) : undefined;
      out += id ? `[${id}]` : `[${key}]`;
    } else {
      out += (out ? "." : "") + String(key);
    }
  });
  return out || "(file)";
}

function tenantIdAt(raw: unknown, index: number): string | undefined {
  const tenants = (raw as { tenants?: unknown } | null)?.tenants;
  const id = Array.isArray(tenants) ? (tenants[index] as { id?: unknown } | undefined)?.id : undefined;
  return typeof id === "string" && id ? id : undefined;
}

/** Parses and validates the file's text; throws an Error whose lines name each bad field. */
export function parseTenantsFile(text: string, path: string, defaults: TenantDefaults): TenantsFile {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new TenantsFileError(path, [`  (file): not valid YAML: ${(err as Error).message.split("\n", 1)[0]}`]);
  }
  const parsed = fileSchema(defaults).safeParse(raw);
  if (!parsed.success) {
    throw new TenantsFileError(
      path,
      parsed.error.issues.map((issue) => `  ${describePath(issue.path, raw)}: ${issue.message}`),
    );
  }
  const file = parsed.data;
  return {
    tenants: file.tenants,
    defaultTenant: file.defaultTenant ?? file.tenants[0]!.id,
    callers: file.callers,
  };
}

export function readTenantsFile(path: string, defaults: TenantDefaults): TenantsFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TenantsFileError(path, [`  (file): cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseTenantsFile(text, path, defaults);
}

/** config.ts turns it into a ConfigError (exit 1). */
export class TenantsFileError extends Error {
  override readonly name = "TenantsFileError";
  constructor(path: string, lines: readonly string[]) {
    super(`invalid tenants file ${path} (DYNAUTHN_CONFIG_FILE):\n${lines.join("\n")}`);
  }
}
