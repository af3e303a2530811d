import { describe, expect, it } from "vitest";
import { FailureSampler, isSecurityAlert } from "../../src/audit/failure-sampler.js";

function sampler(perSource: number, total: number) {
  let now = 1_000_000;
  const s = new FailureSampler({ perSource, total, windowSeconds: 60 }, () => now);
  return { s, advance: (ms: number) => (now += ms) };
}

const writes = (s: FailureSampler, source: string, n: number) =>
  Array.from({ length: n }, () => s.admit(source)).filter((v) => v.write).length;

describe("FailureSampler", () => {
  it("writes a source's first perSource refusals in a window and only counts the rest", () => {
    const { s } = sampler(3, 100);
    expect(writes(s, "a", 10)).toBe(3);
    expect(s.admit("b")).toEqual({ write: true, suppressedBefore: 0 }); // another source is unaffected
  });

  it("reports on the source's next written event how many were left out, once", () => {
    const { s, advance } = sampler(2, 100);
    writes(s, "a", 7); // 2 written, 5 left out
    advance(60_000);
    expect(s.admit("a")).toEqual({ write: true, suppressedBefore: 5 });
    expect(s.admit("a")).toEqual({ write: true, suppressedBefore: 0 });
    expect(s.admit("a")).toEqual({ write: false });
  });

  it("caps all sources together, so a spray of distinct sources is bounded too", () => {
    const { s, advance } = sampler(5, 10);
    const written = Array.from({ length: 50 }, (_, i) => s.admit(`ip-${i}`)).filter((v) => v.write).length;
    expect(written).toBe(10);
    advance(60_000);
    expect(s.admit("ip-49")).toEqual({ write: true, suppressedBefore: 1 });
  });

  it("starts a window at its first refusal: one just before the end does not open a fresh budget", () => {
    const { s, advance } = sampler(1, 100);
    expect(s.admit("a").write).toBe(true);
    advance(59_999);
    expect(s.admit("a").write).toBe(false);
    advance(1);
    expect(s.admit("a")).toEqual({ write: true, suppressedBefore: 1 });
  });
});

describe("isSecurityAlert: refusals never sampled away", () => {
  it("is every clone_suspected event and the refusals that follow a verified signature; not what anyone can trigger", () => {
    expect(isSecurityAlert("clone_suspected", "COUNTER_REGRESSION")).toBe(true);
    for (const reason of ["CREDENTIAL_CLONE_SUSPECTED", "BACKUP_ELIGIBILITY_MISMATCH", "BACKUP_ELIGIBLE_REFUSED"]) {
      expect(isSecurityAlert("authentication", reason)).toBe(true);
      expect(isSecurityAlert("step_up", reason)).toBe(true);
    }
    for (const reason of ["AUTHENTICATOR_REVOKED", "SIGNATURE_INVALID", "COUNTER_REGRESSION", "ORIGIN_MISMATCH", "CREDENTIAL_REVOKED", "INVALID_ARGUMENT"]) {
      expect(isSecurityAlert("authentication", reason)).toBe(false);
    }
    expect(isSecurityAlert("registration", "AUTHENTICATOR_REVOKED")).toBe(false);
  });
});
