import type { AuditFacts } from "../audit/audit-event.js";
import { Caches } from "./credential-cache.js";
import type { Ceremony } from "../webauthn/ceremony.js";
import type { CeremonyDeps } from "./deps.js";
import { MAX_CREDENTIAL_ID_CHARS } from "../field-limits.js";

/** What the audit trail keeps of the Begin call: when, and who began it, if not the finisher. */
export function beginFacts(ceremony: Ceremony): AuditFacts {
  const details: Record<string, string> = {};
  if (ceremony.beganBy.caller) details.begin_caller = ceremony.beganBy.caller;
  if (ceremony.beganBy.clientIp) details.begin_client_ip = ceremony.beganBy.clientIp;
  if (ceremony.beganBy.clientUserAgent) details.begin_client_user_agent = ceremony.beganBy.clientUserAgent;
  if (ceremony.conditional) details.conditional = "true";
  return { userId: ceremony.userId, ceremonyBeganAt: ceremony.createdAt, details };
}

/**
 * The credential id a refused request named, read leniently so that even a request refused for
 * its shape leaves an event findable by credential (ids are at most 1023 bytes, base64url).
 */
export function credentialIdHint(credentialJson: string): string {
  try {
    const id: unknown = JSON.parse(credentialJson)?.id;
    return typeof id === "string" && id.length <= MAX_CREDENTIAL_ID_CHARS && /^[A-Za-z0-9_-]+$/.test(id) ? id : "";
  } catch {
    return "";
  }
}

/** Who owns a credential id (cached facts, else one read); undefined when no one does. */
export async function credentialOwner(deps: Pick<CeremonyDeps, "caches" | "store">, tenant: string, credentialId: string): Promise<string | undefined> {
  const cached = deps.caches.credentials.get(Caches.key(tenant, credentialId));
  return cached?.userId ?? (await deps.store.credentials.get(tenant, credentialId))?.userId;
}
