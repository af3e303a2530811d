import { describe, expect, it } from "vitest";
import { decoyCredentials } from "../../src/webauthn/decoy-credentials.js";

describe("decoyCredentials", () => {
  it("is stable per user and differs between users and secrets", () => {
    const secret = new Uint8Array(32).fill(7);
    expect(decoyCredentials(secret, "t", "u1")).toEqual(decoyCredentials(secret, "t", "u1"));
    expect(decoyCredentials(secret, "t", "u1")[0]!.id).not.toBe(decoyCredentials(secret, "t", "u2")[0]!.id);
    expect(decoyCredentials(new Uint8Array(32), "t", "u1")[0]!.id).not.toBe(decoyCredentials(secret, "t", "u1")[0]!.id);
  });
});
