import { parse } from "tldts";
import type { z } from "zod";
import { isHttpsOrigin } from "./url-forms.js";

/**
 * Related origins (WebAuthn Level 3 §5.11): web origins on other sites that use a tenant's RP ID.
 * A browser on such an origin fetches `https://{rpId}/.well-known/webauthn` and honours an origin
 * listed there only when its registrable domain has a label (the "registrable origin label":
 * `example` for example.com and example.co.uk) and that label is among the first MAX_LABELS
 * distinct labels of the list (§5.11.1). The tenant configuration refuses what a browser would
 * never honour, so a listed origin is one that works.
 *
 * The Public Suffix List comes from `tldts`, which ships the list inside the package (no fetch at
 * run time), is updated with every list release, and includes the list's private section
 * (github.io, …) that browsers use too.
 */

/** Browsers must honour at least five labels (§5.11) and may honour no more. */
export const MAX_RELATED_ORIGIN_LABELS = 5;

/**
 * The registrable origin label of a host, or undefined where a browser has none: IP addresses,
 * localhost, a public suffix itself; and names under no suffix the list knows, where browsers
 * differ (unknown top-level domains): refusing those is the safe side.
 */
export function registrableOriginLabel(host: string): string | undefined {
  const name = parse(host, { allowPrivateDomains: true });
  if (name.isIp !== false || !(name.isIcann || name.isPrivate)) return undefined;
  return name.domainWithoutSuffix || undefined;
}

/** Whether `host` is the RP ID or under it: the browser's ordinary rule covers it, without the document. */
function isWithinRpId(host: string, rpId: string): boolean {
  return host === rpId || host.endsWith(`.${rpId}`);
}

export interface RelatedOriginsIssue {
  /** The index in the related origins list, or undefined for the list as a whole. */
  readonly index?: number;
  readonly message: string;
}

/**
 * What a browser would not honour in a tenant's related origins, or what contradicts its other
 * settings; empty when the list is sound. `origins` are the tenant's own (same-site) origins.
 */
export function relatedOriginsIssues(rpId: string, origins: readonly string[], related: readonly string[]): RelatedOriginsIssue[] {
  if (related.length === 0) return [];
  if (registrableOriginLabel(rpId) === undefined) {
    return [{ message: `the RP ID ${rpId} has no registrable domain (localhost, an IP address or a public suffix): browsers never fetch its /.well-known/webauthn` }];
  }
  const issues: RelatedOriginsIssue[] = [];
  const seen = new Set<string>();
  const labels = new Set<string>();
  related.forEach((origin, index) => {
    if (!isHttpsOrigin(origin)) return; // the schema names it
    const { hostname } = new URL(origin);
    const label = registrableOriginLabel(hostname);
    if (label === undefined) {
      issues.push({ index, message: "has no registrable domain under a known public suffix (IP address, localhost, a public suffix itself or an unknown top-level domain): browsers never honour it" });
    } else if (isWithinRpId(hostname, rpId)) {
      issues.push({ index, message: `is the RP ID ${rpId} or under it: browsers accept it without the document, list it under origins` });
    } else if (origins.includes(origin)) {
      issues.push({ index, message: "is also listed under origins" });
    } else if (seen.has(origin)) {
      issues.push({ index, message: "is listed twice" });
    } else {
      labels.add(label);
    }
    seen.add(origin);
  });
  if (labels.size > MAX_RELATED_ORIGIN_LABELS) {
    issues.push({
      message: `name ${labels.size} registrable domain labels (${[...labels].join(", ")}); browsers honour only the first ${MAX_RELATED_ORIGIN_LABELS}`,
    });
  }
  return issues;
}

/** The tenants file's check of a tenant's `relatedOrigins` (paths relative to the tenant). */
export function checkRelatedOrigins(
  tenant: { readonly rpId: string; readonly origins: readonly string[]; readonly relatedOrigins?: readonly string[] | undefined },
  ctx: z.RefinementCtx,
): void {
  for (const issue of relatedOriginsIssues(tenant.rpId, tenant.origins, tenant.relatedOrigins ?? [])) {
    ctx.addIssue({ code: "custom", path: issue.index === undefined ? ["relatedOrigins"] : ["relatedOrigins", issue.index], message: issue.message });
  }
}
