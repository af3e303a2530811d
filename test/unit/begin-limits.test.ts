import { Code } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CallContext } from "../../src/audit/audit-event.js";
import type { TenantConfig } from "../../src/config.js";
import { AuthError, toConnectError } from "../../src/errors.js";
import { ErrorInfoSchema, RetryInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { BeginLimits, type BeginLimitSettings } from "../../src/limits/begin-limits.js";
import { clientIpKey } from "../../src/limits/client-ip-key.js";
import { DEFAULT_ATTESTATION_POLICY } from "../../src/attestation/policy.js";

const TENANT: TenantConfig = {
  id: "default",
  rpId: "localhost",
  rpName: "t",
  origins: ["http://localhost:8080"],
  challengeTtlSeconds: 60,
  sessionTtlSeconds: 600,
  attestation: DEFAULT_ATTESTATION_POLICY,
};
const OTHER_TENANT: TenantConfig = { ...TENANT, id: "other" };
const OFF: BeginLimitSettings = { perCaller: 0, perUser: 0, perIp: 0, windowSeconds: 2, outstandingPerUser: 0 };

const call = (clientIp = "", caller = ""): CallContext => ({ caller, clientIp, clientUserAgent: "" });

/** The refusal of one admit, or undefined when admitted. */
async function refusal(limits: BeginLimits, userId: string | undefined, ctx: CallContext, tenant = TENANT): Promise<AuthError | undefined> {
  return limits.admit(tenant, "authentication", userId, ctx).then(
    () => undefined,
    (err: unknown) => {
      if (err instanceof AuthError) return err;
      throw err;
    },
  );
}

async function admitted(limits: BeginLimits, n: number, userId: string | undefined, ctx: CallContext): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) if (!(await refusal(limits, userId, ctx))) ok++;
  return ok;
}

describe("BeginLimits", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 11, 1) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("per user: the (N+1)th Begin in a window is RATE_LIMITED with the time left; other users and tenants are unaffected; the next window admits again", async () => {
    const limits = new BeginLimits({ ...OFF, perUser: 3, windowSeconds: 2 });
    expect(await admitted(limits, 3, "alice", call())).toBe(3);
    vi.advanceTimersByTime(500);
    const refused = await refusal(limits, "alice", call());
    expect(refused).toMatchObject({ reason: "RATE_LIMITED", code: Code.ResourceExhausted, metadata: { limit: "user" }, retryDelayMs: 1500 });
    expect(refused?.message).not.toContain("alice");
    expect(await admitted(limits, 3, "bob", call())).toBe(3);
    expect(await refusal(limits, "alice", call(), OTHER_TENANT)).toBeUndefined();
    vi.advanceTimersByTime(1500);
    expect(await refusal(limits, "alice", call())).toBeUndefined();
  });

  it("per user: a discoverable Begin (no user id) is not counted", async () => {
    const limits = new BeginLimits({ ...OFF, perUser: 1, outstandingPerUser: 1 });
    expect(await admitted(limits, 50, undefined, call())).toBe(50);
  });

  it("per client IP: across users; IPv6 per /64; IPv4-mapped IPv6 is its IPv4; an unreported IP is not counted", async () => {
    const limits = new BeginLimits({ ...OFF, perIp: 2 });
    expect(await refusal(limits, "u1", call("2001:db8:1:2::1"))).toBeUndefined();
    expect(await refusal(limits, "u2", call("2001:db8:1:2:ffff::9"))).toBeUndefined();
    expect(await refusal(limits, "u3", call("2001:0db8:0001:0002::7"))).toMatchObject({ metadata: { limit: "ip" } });
    expect(await admitted(limits, 2, "u4", call("2001:db8:1:3::1"))).toBe(2);

    expect(await admitted(limits, 2, "u5", call("198.51.100.7"))).toBe(2);
    expect(await refusal(limits, "u6", call("::ffff:198.51.100.7"))).toMatchObject({ metadata: { limit: "ip" } });
    expect(await admitted(limits, 20, "u7", call(""))).toBe(20);
  });

  it("per caller: the empty caller is one anonymous caller; named callers count apart", async () => {
    const limits = new BeginLimits({ ...OFF, perCaller: 2 });
    expect(await refusal(limits, "a", call("", ""))).toBeUndefined();
    expect(await refusal(limits, undefined, call("192.0.2.1", ""))).toBeUndefined();
    expect(await refusal(limits, "b", call("192.0.2.2", ""))).toMatchObject({ metadata: { limit: "caller" } });
    expect(await admitted(limits, 2, "c", call("", "spiffe://cluster/ns/shop/sa/checkout"))).toBe(2);
  });

  it("outstanding: at most K Begins per user within the tenant's challenge lifetime, then a retry delay up to that lifetime", async () => {
    const limits = new BeginLimits({ ...OFF, perUser: 100, windowSeconds: 1, outstandingPerUser: 4 });
    for (let i = 0; i < 4; i++) {
      expect(await refusal(limits, "carol", call())).toBeUndefined();
      vi.advanceTimersByTime(1000); // never more than one per user window
    }
    const refused = await refusal(limits, "carol", call());
    expect(refused).toMatchObject({ reason: "RATE_LIMITED", metadata: { limit: "outstanding" }, retryDelayMs: 56_000 });
    expect(await refusal(limits, "carol", call(), { ...OTHER_TENANT, challengeTtlSeconds: 10 })).toBeUndefined();
    vi.advanceTimersByTime(56_000);
    expect(await refusal(limits, "carol", call())).toBeUndefined();
  });

  it("checks caller, IP, user, outstanding in that order; a refusal stops before the later limits count", async () => {
    const limits = new BeginLimits({ ...OFF, perIp: 1, perUser: 1 });
    expect(await refusal(limits, "dave", call("203.0.113.9"))).toBeUndefined();
    expect(await refusal(limits, "erin", call("203.0.113.9"))).toMatchObject({ metadata: { limit: "ip" } });
    // erin's refusal by IP did not use up her own allowance.
    expect(await refusal(limits, "erin", call("203.0.113.10"))).toBeUndefined();
    expect(await refusal(limits, "erin", call("203.0.113.11"))).toMatchObject({ metadata: { limit: "user" } });
  });

  it("0 disables each limit: ten thousand Begins for one user from one IP and caller are all admitted", async () => {
    const limits = new BeginLimits(OFF);
    expect(await admitted(limits, 10_000, "frank", call("192.0.2.5"))).toBe(10_000);
  });
});

describe("RATE_LIMITED on the wire", () => {
  it("is RESOURCE_EXHAUSTED with ErrorInfo (limit) and google.rpc.RetryInfo", () => {
    const err = toConnectError(new AuthError("RATE_LIMITED", "too many", { limit: "user" }, 1500));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.findDetails(ErrorInfoSchema)[0]).toMatchObject({ reason: "RATE_LIMITED", metadata: { limit: "user" } });
    expect(err.findDetails(RetryInfoSchema)[0]?.retryDelay).toMatchObject({ seconds: 1n, nanos: 500_000_000 });
  });

  it("other refusals carry no RetryInfo", () => {
    expect(toConnectError(new AuthError("FIELD_INVALID", "x")).findDetails(RetryInfoSchema)).toEqual([]);
  });
});

describe("clientIpKey", () => {
  it.each([
    ["198.51.100.7", "198.51.100.7"],
    [" 198.51.100.7 ", "198.51.100.7"],
    ["::ffff:198.51.100.7", "198.51.100.7"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:DB8:0001:0002:aaaa::", "2001:db8:1:2::/64"],
    ["not an ip", "not an ip"],
  ])("%j → %j", (ip, key) => {
    expect(clientIpKey(ip)).toBe(key);
  });

  it("has no key for an unreported IP", () => {
    expect(clientIpKey("")).toBeUndefined();
    expect(clientIpKey("  ")).toBeUndefined();
  });
});
