import { describe, expect, it } from "vitest";
import { MAX_SESSION_ID_BYTES, newSessionId, parseSessionId } from "../../src/audit/session-id.js";

describe("session ids", () => {
  const time = Date.UTC(2026, 11, 1, 10, 0, 0, 123);

  it.each(["alice", "user-ü-\u202e-\u0000", "\ud800lone", "#", "x".repeat(128)])("name their user and sign-in time: %j", (userId) => {
    const id = newSessionId(userId, time);
    expect(parseSessionId(id)).toEqual({ userId, time });
    expect(Buffer.byteLength(id)).toBeLessThanOrEqual(MAX_SESSION_ID_BYTES);
  });

  it("are unique for the same user and instant", () => {
    expect(newSessionId("alice", time)).not.toBe(newSessionId("alice", time));
  });

  it("refuse anything else: UUIDs, missing parts, non-canonical encodings, odd lengths", () => {
    const [t, u, r] = newSessionId("alice", time).split(".");
    for (const bad of ["", "3f2b8c1e-8f7a-4c5e-9a1b-2c3d4e5f6a7b", `${t}.${u}`, `${t}.${u}.${r}x`, `${t}.${u}A.${r}`, `0${t}.${u}.${r}`, `${t}..${r}`]) {
      expect(parseSessionId(bad), bad).toBeUndefined();
    }
  });
});
