import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { CallContext } from "../audit/audit-event.js";
import type { TenantConfig } from "../config.js";
import { AuthError } from "../errors.js";
import { countRateLimited } from "../telemetry/metrics.js";
import type { CeremonyKind } from "../webauthn/ceremony.js";
import { clientIpKey } from "./client-ip-key.js";

/** How many challenges a Begin may issue, per replica. Every count: 0 = unlimited. */
export interface BeginLimitSettings {
  /** Per calling service (CallContext.caller; "" is one anonymous caller) per window. */
  readonly perCaller: number;
  /** Per (tenant, user id) per window; a discoverable Begin names no user and is not counted. */
  readonly perUser: number;
  /** Per end-user client IP (IPv6: per /64) per window; an unreported IP is not counted. */
  readonly perIp: number;
  /** The window of the three limits above. */
  readonly windowSeconds: number;
  /** Per (tenant, user id) within the tenant's challenge lifetime: the challenges that may be outstanding. */
  readonly outstandingPerUser: number;
}

/**
 * Off per caller: until mTLS names callers every caller is the same anonymous one, and a limit
 * on it would be one global limit an attacker could exhaust for everyone. Per user ≈ 10/s with
 * bursts of 20; per IP ≈ 50/s (offices behind one NAT address). 256 outstanding per user is
 * about one Begin a second for the whole default 5-minute challenge lifetime.
 */
export const DEFAULT_BEGIN_LIMITS: BeginLimitSettings = Object.freeze({
  perCaller: 0,
  perUser: 20,
  perIp: 100,
  windowSeconds: 2,
  outstandingPerUser: 256,
});

export type LimitName = "caller" | "user" | "ip" | "outstanding";

const REFUSAL: Record<LimitName, string> = {
  caller: "too many Begin calls from this caller",
  user: "too many Begin calls for this user",
  ip: "too many Begin calls from this client IP",
  outstanding: "too many challenges outstanding for this user",
};

/**
 * The limits on Begin calls (BeginRegistration, BeginAuthentication and VerifyOperation's
 * step-up challenges), checked before a Begin does any I/O. Counters live in this replica's
 * memory (rate-limiter-flexible, fixed windows that start at a key's first call); N replicas
 * behind a balancer admit up to N times each limit.
 */
export class BeginLimits {
  readonly #caller: RateLimiterMemory | undefined;
  readonly #user: RateLimiterMemory | undefined;
  readonly #ip: RateLimiterMemory | undefined;
  readonly #outstanding: RateLimiterMemory | undefined;

  constructor(readonly settings: BeginLimitSettings) {
    const limiter = (points: number, duration: number) => (points > 0 ? new RateLimiterMemory({ points, duration }) : undefined);
    this.#caller = limiter(settings.perCaller, settings.windowSeconds);
    this.#user = limiter(settings.perUser, settings.windowSeconds);
    this.#ip = limiter(settings.perIp, settings.windowSeconds);
    // The duration is each tenant's challenge lifetime, given per call.
    this.#outstanding = limiter(settings.outstandingPerUser, 1);
  }

  /**
   * Counts one Begin against every limit that applies, in order caller, IP, user, outstanding;
   * the first one exceeded refuses it with RATE_LIMITED (RESOURCE_EXHAUSTED) and a retry delay.
   * A refused call still counts against the limits checked before the one that refused it.
   */
  async admit(tenant: TenantConfig, kind: CeremonyKind, userId: string | undefined, call: CallContext): Promise<void> {
    const userKey = userId === undefined ? undefined : `${tenant.id}#${userId}`; // tenant ids hold no '#'
    await this.#consume("caller", this.#caller, call.caller, kind);
    await this.#consume("ip", this.#ip, clientIpKey(call.clientIp), kind);
    await this.#consume("user", this.#user, userKey, kind);
    await this.#consume("outstanding", this.#outstanding, userKey, kind, tenant.challengeTtlSeconds);
  }

  async #consume(
    name: LimitName,
    limiter: RateLimiterMemory | undefined,
    key: string | undefined,
    kind: CeremonyKind,
    durationSeconds?: number,
  ): Promise<void> {
    if (!limiter || key === undefined) return;
    try {
      await limiter.consume(key, 1, durationSeconds === undefined ? {} : { customDuration: durationSeconds });
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      countRateLimited(name, kind);
      const retryDelayMs = Math.max(1, Math.ceil(refusal.msBeforeNext));
      throw new AuthError("RATE_LIMITED", `${REFUSAL[name]}; retry in ${Math.ceil(retryDelayMs / 1000)} s`, { limit: name }, retryDelayMs);
    }
  }
}
