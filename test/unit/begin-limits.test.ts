import { Code } from "@connectrpc/connect";
import { beforeEach, describe, expect, it } from "vitest";
import type { CallContext } from "../../src/audit/audit-event.js";
import type { TenantConfig } from "../../src/tenants/tenant-config.js";
import { AuthError } from "../../src/errors.js";
import { codeOf, toConnectError } from "../../src/rpc/connect-error.js";
import { ErrorInfoSchema, RetryInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import type { BeginLimitSettings } from "../../src/limits/begin-limit-settings.js";
import { BeginLimits } from "../../src/limits/begin-limits.js";
import { clientIpKey } from "../../src/limits/client-ip-key.js";
import { FixedWindowCounter } from "../../src/limits/fixed-window-counter.js";
import { DEFAULT_ATTESTATION_POLICY } from "../../src/attestation/policy.js";
import { DEFAULT_ASSERTION_POLICY } from "../../src/webauthn/assertion-policy.js";
import { SUPPORTED_ALGORITHMS } from "../../src/webauthn/algorithms.js";

const TENANT: TenantConfig = {
  id: "default",
  rpId: "localhost",
  rpName: "t",
  origins: ["http://localhost:8080"],
  challengeTtlSeconds: 60,
  sessionTtlSeconds: 600,
  attestation: DEFAULT_ATTESTATION_POLICY,
  assertion: DEFAULT_ASSERTION_POLICY,
  userVerification: "preferred",
  algorithms: SUPPORTED_ALGORITHMS,
};
const OTHER_TENANT: TenantConfig = { ...TENANT, id: "other" };
const OFF: BeginLimitSettings = { perCaller: 0, perUser: 0, perIp: 0, windowSeconds: 2, outstandingPerUser: 0 };

const call = (clientIp = "", caller = ""): CallContext => ({ caller, clientIp, clientUserAgent: "" });

/** A clock the test moves by hand (epoch ms). */
let now = 0;
const clock = () => now;
const limitsOf = (settings: BeginLimitSettings) => new BeginLimits(settings, clock);

/** The refusal of one admit, or undefined when admitted. */
function refusal(limits: BeginLimits, userId: string | undefined, ctx: CallContext, tenant = TENANT): AuthError | undefined {
  try {
    limits.admit(tenant, "authentication", userId, ctx);
    return undefined;
  } catch (err) {
    if (err instanceof AuthError) return err;
    throw err;
  }
}

function admitted(limits: BeginLimits, n: number, userId: string | undefined, ctx: CallContext): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (!refusal(limits, userId, ctx)) ok++;
  return ok;
}

describe("BeginLimits", () => {
  beforeEach(() => {
    now = Date.UTC(2026, 11, 1);
  });

  it("per user: the (N+1)th Begin in a window is RATE_LIMITED with the time left; other users and tenants are unaffected; the next window admits again", () => {
    const limits = limitsOf({ ...OFF, perUser: 3, windowSeconds: 2 });
    expect(admitted(limits, 3, "alice", call())).toBe(3);
    now += 500;
    const refused = refusal(limits, "alice", call());
    expect(refused).toMatchObject({ reason: "RATE_LIMITED", metadata: { limit: "user" }, retryDelayMs: 1500 });
    expect(codeOf(refused!.reason)).toBe(Code.ResourceExhausted);
    expect(refused?.message).not.toContain("alice");
    expect(admitted(limits, 3, "bob", call())).toBe(3);
    expect(refusal(limits, "alice", call(), OTHER_TENANT)).toBeUndefined();
    now += 1500;
    expect(refusal(limits, "alice", call())).toBeUndefined();
  });

  it("per user: a discoverable Begin (no user id) is not counted", () => {
    const limits = limitsOf({ ...OFF, perUser: 1, outstandingPerUser: 1 });
    expect(admitted(limits, 50, undefined, call())).toBe(50);
  });

  it("per client IP: across users; IPv6 per /64; IPv4-mapped IPv6 is its IPv4; an unreported IP is not counted", () => {
    const limits = limitsOf({ ...OFF, perIp: 2 });
    expect(refusal(limits, "u1", call("2001:db8:1:2::1"))).toBeUndefined();
    expect(refusal(limits, "u2", call("2001:db8:1:2:ffff::9"))).toBeUndefined();
    expect(refusal(limits, "u3", call("2001:0db8:0001:0002::7"))).toMatchObject({ metadata: { limit: "ip" } });
    expect(admitted(limits, 2, "u4", call("2001:db8:1:3::1"))).toBe(2);

    expect(admitted(limits, 2, "u5", call("198.51.100.7"))).toBe(2);
    expect(refusal(limits, "u6", call("::ffff:198.51.100.7"))).toMatchObject({ metadata: { limit: "ip" } });
    expect(admitted(limits, 20, "u7", call(""))).toBe(20);
  });

  it("per caller: the empty caller is one anonymous caller; named callers count apart", () => {
    const limits = limitsOf({ ...OFF, perCaller: 2 });
    expect(refusal(limits, "a", call("", ""))).toBeUndefined();
    expect(refusal(limits, undefined, call("192.0.2.1", ""))).toBeUndefined();
    expect(refusal(limits, "b", call("192.0.2.2", ""))).toMatchObject({ metadata: { limit: "caller" } });
    expect(admitted(limits, 2, "c", call("", "spiffe://cluster/ns/shop/sa/checkout"))).toBe(2);
  });

  it("outstanding: at most K Begins per user within the tenant's challenge lifetime, then a retry delay up to that lifetime", () => {
    const limits = limitsOf({ ...OFF, perUser: 100, windowSeconds: 1, outstandingPerUser: 4 });
    for (let i = 0; i < 4; i++) {
      expect(refusal(limits, "carol", call())).toBeUndefined();
      now += 1000; // never more than one per user window
    }
    const refused = refusal(limits, "carol", call());
    expect(refused).toMatchObject({ reason: "RATE_LIMITED", metadata: { limit: "outstanding" }, retryDelayMs: 56_000 });
    expect(refusal(limits, "carol", call(), { ...OTHER_TENANT, challengeTtlSeconds: 10 })).toBeUndefined();
    now += 56_000;
    expect(refusal(limits, "carol", call())).toBeUndefined();
  });

  it("checks caller, IP, user, outstanding in that order; a refusal stops before the later limits count", () => {
    const limits = limitsOf({ ...OFF, perCaller: 1, perUser: 1 });
    expect(refusal(limits, "dave", call("203.0.113.9", "svc-a"))).toBeUndefined();
    expect(refusal(limits, "erin", call("203.0.113.9", "svc-a"))).toMatchObject({ metadata: { limit: "caller" } });
    // erin's refusal by caller did not use up her allowance from this address.
    expect(refusal(limits, "erin", call("203.0.113.9", "svc-b"))).toBeUndefined();
    expect(refusal(limits, "erin", call("203.0.113.9", "svc-c"))).toMatchObject({ metadata: { limit: "user" } });
  });

  it("a stranger cannot spend a named user's budgets: they are per user and source, step-ups apart (identity break 2)", () => {
    const limits = limitsOf({ ...OFF, perUser: 2, outstandingPerUser: 3 });
    // 256 Begins for "victim", each from its own address, in bursts under the per-user rate.
    for (let i = 0; i < 256; i++) {
      expect(refusal(limits, "victim", call(`203.0.113.${i % 250}`, "")), String(i)).toBeUndefined();
      if (i % 2 === 1) now += 2000;
    }
    // The victim's own sign-in (its address) and step-up (session) are untouched.
    expect(admitted(limits, 3, "victim", call("192.0.2.7"))).toBe(2);
    now += 2000;
    expect(refusal(limits, "victim", call("192.0.2.7"))).toBeUndefined();
    expect(refusal(limits, "victim", call("192.0.2.7"))).toMatchObject({ metadata: { limit: "outstanding" } });
    const stepUp = () => limits.admit(TENANT, "step-up", "victim", call("203.0.113.1"));
    expect(stepUp).not.toThrow();
    expect(stepUp).not.toThrow();
    // One source is still held to the per-user limits: the same address, or the same caller when none is reported.
    expect(admitted(limits, 3, "victim", call("198.51.100.1"))).toBe(2);
    expect(admitted(limits, 3, "other", call("", "svc-a"))).toBe(2);
    expect(refusal(limits, "other", call("", "svc-b"))).toBeUndefined();
    // An IPv6 source is its /64.
    expect(admitted(limits, 3, "six", call("2001:db8:1:2::1"))).toBe(2);
    expect(refusal(limits, "six", call("2001:db8:1:2::ffff"))).toMatchObject({ metadata: { limit: "user" } });
  });

  it("per-user keys cannot collide through a user id holding separators", () => {
    const limits = limitsOf({ ...OFF, perUser: 1 });
    expect(refusal(limits, 'a","ip 1', call("", "x"))).toBeUndefined();
    expect(refusal(limits, "a", call('1","caller x'))).toBeUndefined();
  });

  it("0 disables each limit: ten thousand Begins for one user from one IP and caller are all admitted", () => {
    const limits = limitsOf(OFF);
    expect(admitted(limits, 10_000, "frank", call("192.0.2.5"))).toBe(10_000);
  });
});

describe("FixedWindowCounter", () => {
  it("admits `limit` calls per window from a key's first call; the window does not slide with refusals", () => {
    let t = 0;
    const counter = new FixedWindowCounter(2, 100, () => t);
    expect([counter.take("k", 1000), counter.take("k", 1000), counter.take("k", 1000)]).toEqual([0, 0, 1000]);
    t = 999;
    expect(counter.take("k", 1000)).toBe(1);
    t = 1000;
    expect(counter.take("k", 1000)).toBe(0);
  });

  it("keeps at most maxKeys windows: a flood of other keys makes it forget (admit), never refuse", () => {
    const counter = new FixedWindowCounter(1, 2, () => 0);
    counter.take("victim", 60_000);
    expect(counter.take("victim", 60_000)).toBe(60_000);
    counter.take("spray-1", 60_000);
    counter.take("spray-2", 60_000);
    expect(counter.take("victim", 60_000)).toBe(0);
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
