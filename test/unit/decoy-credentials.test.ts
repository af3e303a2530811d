import { describe, expect, it } from "vitest";
import { decoyCredentials } from "../../src/webauthn/decoy-credentials.js";

const secret = new Uint8Array(32).fill(7);
const shape = (userId: string) => decoyCredentials(secret, "t", userId).map((c) => `${Buffer.from(c.id, "base64url").length}:${c.transports.join("+")}`);

describe("decoyCredentials", () => {
  it("is stable per user and differs between users, tenants and secrets", () => {
    expect(decoyCredentials(secret, "t", "u1")).toEqual(decoyCredentials(secret, "t", "u1"));
    expect(decoyCredentials(secret, "t", "u1")[0]!.id).not.toBe(decoyCredentials(secret, "t", "u2")[0]!.id);
    expect(decoyCredentials(secret, "t2", "u1")[0]!.id).not.toBe(decoyCredentials(secret, "t", "u1")[0]!.id);
    expect(decoyCredentials(new Uint8Array(32), "t", "u1")[0]!.id).not.toBe(decoyCredentials(secret, "t", "u1")[0]!.id);
  });

  it("has no fixed shape: over many users, counts 1–3 and real authenticators' id lengths and sorted transports (identity break 3)", () => {
    const counts = new Map<number, number>();
    const kinds = new Map<string, number>();
    const ids = new Set<string>();
    const users = 2000;
    for (let i = 0; i < users; i++) {
      const list = decoyCredentials(secret, "t", `user-${i}`);
      counts.set(list.length, (counts.get(list.length) ?? 0) + 1);
      for (const c of list) {
        ids.add(c.id);
        expect([...c.transports].sort(), "browsers report transports sorted").toEqual(c.transports);
      }
      for (const s of shape(`user-${i}`)) kinds.set(s, (kinds.get(s) ?? 0) + 1);
    }
    // Roughly 60/30/10 (wide bounds: the draw is deterministic, these catch a broken weighting).
    expect(counts.get(1)! / users).toBeGreaterThan(0.5);
    expect(counts.get(2)! / users).toBeGreaterThan(0.2);
    expect(counts.get(3)! / users).toBeGreaterThan(0.05);
    expect([...counts.keys()].sort()).toEqual([1, 2, 3]);
    expect([...kinds.keys()].sort()).toEqual(["16:hybrid+internal", "20:hybrid+internal", "32:hybrid+internal", "32:internal", "48:usb", "64:nfc+usb", "64:usb"]);
    // No two ids alike: within a list and across users.
    const total = [...counts].reduce((n, [k, v]) => n + k * v, 0);
    expect(ids.size).toBe(total);
  });
});
