/**
 * The Begin limits' settings and defaults, apart from the limiter: config.ts reads them, and must
 * not load the telemetry instruments (a meter taken before the SDK starts stays a no-op).
 */

/** How many challenges a Begin may issue, per replica. Every count: 0 = unlimited. */
export interface BeginLimitSettings {
  /** Per calling service (CallContext.caller; "" is one anonymous caller) per window. */
  readonly perCaller: number;
  /** Per (tenant, user id, source) per window; a discoverable Begin names no user and is not counted. */
  readonly perUser: number;
  /** Per end-user client IP (IPv6: per /64) per window; an unreported IP is not counted. */
  readonly perIp: number;
  /** The window of the three limits above. */
  readonly windowSeconds: number;
  /** Per (tenant, user id, source) within the tenant's challenge lifetime: the challenges that may be outstanding. */
  readonly outstandingPerUser: number;
}

/**
 * Off per caller: without mTLS or mesh identity every caller is the same anonymous one, and a limit
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
