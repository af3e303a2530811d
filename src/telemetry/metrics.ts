import { metrics } from "@opentelemetry/api";
import type { AuditEvent } from "../audit/audit-event.js";
import type { KeyRing } from "../tokens/key-ring.js";
import type { MdsCatalogSource } from "../attestation/mds-reloader.js";

/**
 * The service's own instruments. The metrics API has no proxy provider: a meter taken before the
 * SDK starts stays a no-op, so the SDK starts before this module loads (see register.ts). With
 * no SDK every call here is a no-op.
 */
const meter = metrics.getMeter("dynauthn");

/** RPC latency by method and status (OpenTelemetry RPC semantic conventions). */
export const rpcDuration = meter.createHistogram("rpc.server.call.duration", {
  description: "Duration of RPCs served",
  unit: "s",
  advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
});

const ceremonies = meter.createCounter("dynauthn.ceremonies", {
  description: "Audited ceremonies and credential changes, by type, outcome and refusal reason",
});

const challenges = meter.createCounter("dynauthn.challenges", {
  description: "Challenges issued and consumed, by ceremony kind; issued minus consumed over the challenge TTL is what is outstanding",
});

export function countChallenge(kind: string, event: "issued" | "consumed"): void {
  challenges.add(1, { "dynauthn.ceremony.kind": kind, "dynauthn.challenge.event": event });
}

const cacheLookups = meter.createCounter("dynauthn.cache.lookups", {
  description: "Cache lookups by cache and result (hit or miss)",
});

/** Counts an audit event once it is written (or, for a failure, once it was attempted). */
export function countCeremony(event: AuditEvent): void {
  ceremonies.add(1, { "dynauthn.event.type": event.type, "dynauthn.outcome": event.outcome, "dynauthn.reason": event.reason });
}

export type CacheName = "credential" | "user_credentials";

export function countCacheLookup(cache: CacheName, hit: boolean): void {
  cacheLookups.add(1, { "dynauthn.cache": cache, "dynauthn.cache.result": hit ? "hit" : "miss" });
}

/** How long the key that signs now has been signing: alert when it exceeds the rotation period. */
export function observeSigningKeyAge(keys: KeyRing, clock: () => number): void {
  meter
    .createObservableGauge("dynauthn.signing_key.age", { description: "Age of the active signing key", unit: "s" })
    .addCallback((result) => {
      const now = clock();
      result.observe((now - keys.signingKey(now).activatesAt) / 1000);
    });
}

const rateLimited = meter.createCounter("dynauthn.rate_limited", {
  description: "Begin calls refused by a limit (caller, user, ip or outstanding), by the kind of challenge they asked for",
});

export function countRateLimited(limit: string, kind: string): void {
  rateLimited.add(1, { "dynauthn.limit": limit, "dynauthn.ceremony.kind": kind });
}

/** Seconds until the FIDO MDS BLOB in use is due for replacement; negative once stale: alert on it. */
export function observeMdsBlobFreshness(mds: MdsCatalogSource, clock: () => number): void {
  meter
    .createObservableGauge("dynauthn.mds.time_to_next_update", { description: "Time until the FIDO MDS BLOB's nextUpdate", unit: "s" })
    .addCallback((result) => {
      const catalog = mds();
      if (catalog) result.observe((catalog.nextUpdate.getTime() - clock()) / 1000);
    });
}
