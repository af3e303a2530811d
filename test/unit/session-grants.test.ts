import { describe, expect, it } from "vitest";
import { SessionGrants } from "../../src/step-up/session-grants.js";
import type { IssuedGrant } from "../../src/tokens/step-up-grant.js";

/** An issuer that numbers its grants, so a test sees which call signed the one it got. */
function numbered() {
  let n = 0;
  return () => Promise.resolve({ token: `grant-${++n}` } as IssuedGrant);
}

const KEY = { tenant: "t", sessionId: "s", operation: "op", kid: "k1" };

describe("SessionGrants: a token-only ALLOW's grant reused for a tenth of its lifetime", () => {
  it("reuses within the window, by the service's clock, and signs anew after it", async () => {
    const grants = new SessionGrants(300); // window 30 s
    const issue = numbered();
    expect((await grants.reuse(KEY, 1_000, issue)).token).toBe("grant-1");
    expect((await grants.reuse(KEY, 30_999, issue)).token).toBe("grant-1");
    expect((await grants.reuse(KEY, 31_000, issue)).token).toBe("grant-2");
    // A clock that went back never gets a grant from its future.
    expect((await grants.reuse(KEY, 20_000, issue)).token).toBe("grant-3");
  });

  it("keeps the window at a tenth of a short lifetime", async () => {
    const grants = new SessionGrants(60); // window 6 s
    const issue = numbered();
    await grants.reuse(KEY, 0, issue);
    expect((await grants.reuse(KEY, 5_999, issue)).token).toBe("grant-1");
    expect((await grants.reuse(KEY, 6_000, issue)).token).toBe("grant-2");
  });

  it("never shares a grant across tenants, sessions, operations or signing keys", async () => {
    const grants = new SessionGrants(300);
    const issue = numbered();
    await grants.reuse(KEY, 0, issue);
    const others = [{ ...KEY, tenant: "u" }, { ...KEY, sessionId: "s2" }, { ...KEY, operation: "op2" }, { ...KEY, kid: "k2" }];
    const tokens = await Promise.all(others.map((key) => grants.reuse(key, 1, issue).then((g) => g.token)));
    expect(new Set(tokens).size).toBe(others.length);
    expect(tokens).not.toContain("grant-1");
  });
});
