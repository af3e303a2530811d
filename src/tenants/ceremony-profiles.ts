import { z } from "zod";
import { invalidField } from "../errors.js";
import type { CeremonyProfile } from "../webauthn/ceremony-profile.js";
import type { TenantConfig } from "./tenant-config.js";

/**
 * A tenant's named ceremony profiles (tenants file `profiles`, docs/tenants-and-callers.md):
 * validated here, selected by a request's `profile` field.
 */

export const PROFILE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
const PROFILE_NAME_MESSAGE = "must be 1-32 lowercase letters, digits or '-', starting with a letter";

const distinct = <T>(values: readonly T[]) => new Set(values).size === values.length;

const profileSchema = z
  .object({
    userVerification: z.enum(["required", "preferred", "discouraged"]).optional(),
    timeoutSeconds: z.number().int().min(10).optional(),
    hints: z.array(z.enum(["security-key", "client-device", "hybrid"])).min(1).refine(distinct, "must not repeat a hint").optional(),
    attachment: z.enum(["platform", "cross-platform"]).optional(),
    residentKey: z.enum(["required", "preferred", "discouraged"]).optional(),
    algorithms: z.array(z.number().int()).min(1).refine(distinct, "must not repeat an algorithm").optional(),
  })
  .strict();

/** Names are checked in checkProfiles: a record's key schema reports only "Invalid key in record". */
export const profilesSchema = z.record(z.string(), profileSchema);

/**
 * A profile's name, and what a profile can only state against its tenant: its algorithms are among the tenant's, and
 * its browser timeout is no longer than the challenge lives. A profile's userVerification below
 * the tenant's floor is not refused: it is raised to the floor, as a request's is.
 */
export function checkProfiles(
  tenant: { readonly algorithms: readonly number[]; readonly challengeTtlSeconds: number; readonly profiles: z.infer<typeof profilesSchema> },
  ctx: z.RefinementCtx,
): void {
  for (const [name, profile] of Object.entries(tenant.profiles)) {
    if (!PROFILE_NAME_PATTERN.test(name)) ctx.addIssue({ code: "custom", path: ["profiles", name], message: PROFILE_NAME_MESSAGE });
    profile.algorithms?.forEach((alg, i) => {
      if (!tenant.algorithms.includes(alg)) {
        ctx.addIssue({ code: "custom", path: ["profiles", name, "algorithms", i], message: "must be one of the tenant's algorithms" });
      }
    });
    if (profile.timeoutSeconds !== undefined && profile.timeoutSeconds > tenant.challengeTtlSeconds) {
      ctx.addIssue({
        code: "custom",
        path: ["profiles", name, "timeoutSeconds"],
        message: `must be at most the tenant's challengeTtlSeconds (${tenant.challengeTtlSeconds})`,
      });
    }
  }
}

/** The file's profiles as a frozen map (a Map: a name like "constructor" finds nothing inherited). */
export function profileMapOf(profiles: z.infer<typeof profilesSchema>): ReadonlyMap<string, CeremonyProfile> {
  return new Map(Object.entries(profiles).map(([name, p]) => [name, Object.freeze({ ...p })]));
}

/** The profile a request's `profile` field names ("" none); any other name is FIELD_INVALID. */
export function profileOf(tenant: TenantConfig, name: string, field = "profile"): CeremonyProfile | undefined {
  if (name === "") return undefined;
  const profile = PROFILE_NAME_PATTERN.test(name) ? tenant.profiles?.get(name) : undefined;
  if (!profile) throw invalidField(field, "names no ceremony profile of this tenant");
  return profile;
}
