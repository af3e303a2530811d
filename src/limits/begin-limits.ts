import type { CallContext } from "../audit/audit-event.js";
import type { TenantConfig } from "../tenants/tenant-config.js";
import { AuthError } from "../errors.js";
import { countRateLimited } from "../telemetry/metrics.js";
import type { CeremonyKind } from "../webauthn/ceremony.js";
import { clientIpKey } from "./client-ip-key.js";
import type { BeginLimitSettings } from "./begin-limit-settings.js";
import { FixedWindowCounter } from "./fixed-window-counter.js";

/**
 * Keys kept per limit (≈ 250–400 bytes each). A short window holds at most (Begins per second ×
 * window) live keys, far below 10 000 on one replica; the outstanding window (minutes) holds one
 * key per user who began a ceremony in it: 100 000 is ≈ 330 distinct users a second for 5 minutes,
 * at most ≈ 40 MB.
 */
const MAX_KEYS = { window: 10_000, outstanding: 100_000 } as const;

export type LimitName = "caller" | "user" | "ip" | "outstanding";

const REFUSAL: Record<LimitName, string> = {
  caller: "too many Begin calls from this caller",
  user: "too many Begin calls for this user",
  ip: "too many Begin calls from this client IP",
  outstanding: "too many challenges outstanding for this user",
};

/**
 * The limits on Begin calls (BeginRegistration, BeginAuthentication and VerifyOperation's
 * step-up challenges), checked before a Begin does any I/O. The per-user limits are per user and
 * source (perUserKey), never per user alone. Counters live in this replica's
 * memory (fixed windows that start at a key's first call); N replicas behind a balancer admit up
 * to N times each limit.
 */
export class BeginLimits {
  readonly #caller: FixedWindowCounter | undefined;
  readonly #user: FixedWindowCounter | undefined;
  readonly #ip: FixedWindowCounter | undefined;
  readonly #outstanding: FixedWindowCounter | undefined;

  constructor(
    private readonly settings: BeginLimitSettings,
    clock: () => number,
  ) {
    const counter = (limit: number, maxKeys: number) => (limit > 0 ? new FixedWindowCounter(limit, maxKeys, clock) : undefined);
    this.#caller = counter(settings.perCaller, MAX_KEYS.window);
    this.#user = counter(settings.perUser, MAX_KEYS.window);
    this.#ip = counter(settings.perIp, MAX_KEYS.window);
    this.#outstanding = counter(settings.outstandingPerUser, MAX_KEYS.outstanding);
  }

  /**
   * Counts one Begin against every limit that applies, in order caller, IP, user, outstanding;
   * the first one exceeded refuses it with RATE_LIMITED (RESOURCE_EXHAUSTED) and a retry delay.
   * A refused call still counts against the limits checked before the one that refused it.
   * Synchronous: the check is a few map lookups, and no await lets two calls interleave.
   */
  admit(tenant: TenantConfig, kind: CeremonyKind, userId: string | undefined, call: CallContext): void {
    const userKey = userId === undefined ? undefined : perUserKey(tenant, userId, kind, call);
    const windowMs = this.settings.windowSeconds * 1000;
    this.#take("caller", this.#caller, call.caller, windowMs, kind);
    this.#take("ip", this.#ip, clientIpKey(call.clientIp), windowMs, kind);
    this.#take("user", this.#user, userKey, windowMs, kind);
    this.#take("outstanding", this.#outstanding, userKey, tenant.challengeTtlSeconds * 1000, kind);
  }

  #take(name: LimitName, counter: FixedWindowCounter | undefined, key: string | undefined, windowMs: number, kind: CeremonyKind): void {
    if (!counter || key === undefined) return;
    const retryDelayMs = counter.take(key, windowMs);
    if (retryDelayMs === 0) return;
    countRateLimited(name, kind);
    throw new AuthError("RATE_LIMITED", `${REFUSAL[name]}; retry in ${Math.ceil(retryDelayMs / 1000)} s`, { limit: name }, retryDelayMs);
  }
}

/**
 * The key of the two per-user limits. Anyone who can start a sign-in can name any user id, so a
 * budget keyed on the user alone let a stranger spend it and lock that user out of sign-in and
 * step-up (issue 13, identity break 2). The budget is per user *and source*: a step-up challenge
 * (VerifyOperation, ext_authz Check) was asked for with a valid session token of this user, so it
 * spends a budget only holders of such a token share; any other Begin spends the budget of its
 * end-user client IP (per /64 for IPv6) or, when the backend reports none, of its calling service.
 */
function perUserKey(tenant: TenantConfig, userId: string, kind: CeremonyKind, call: CallContext): string {
  const ip = clientIpKey(call.clientIp);
  const source = kind === "step-up" ? "session" : ip === undefined ? `caller ${call.caller}` : `ip ${ip}`;
  return JSON.stringify([tenant.id, userId, source]); // unambiguous whatever a user id holds
}
