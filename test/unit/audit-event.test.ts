import { describe, expect, it } from "vitest";
import { auditEvent, mergeFacts } from "../../src/audit/audit-event.js";

describe("mergeFacts", () => {
  it("lets defined fields replace, keeps fields the newer facts leave undefined, and adds details", () => {
    const known = { credentialId: "c1", userId: "u1", details: { a: "1", b: "1" } };
    const merged = mergeFacts(known, { userId: undefined, aaguid: "g", reason: "R", details: { b: "2", c: "3" } });
    expect(merged).toEqual({ credentialId: "c1", userId: "u1", aaguid: "g", reason: "R", details: { a: "1", b: "2", c: "3" } });
  });

  it("never changes the facts it merges", () => {
    const known = { userId: "u1", details: { a: "1" } };
    const more = { userId: "u2", details: { b: "2" } };
    mergeFacts(known, more);
    expect(known).toEqual({ userId: "u1", details: { a: "1" } });
    expect(more).toEqual({ userId: "u2", details: { b: "2" } });
  });

  it("gives an empty details map when neither side has one, so every event carries one", () => {
    const merged = mergeFacts({ userId: "u" }, { credentialId: "c" });
    expect(merged.details).toEqual({});
    const call = { caller: "svc", clientIp: "203.0.113.1", clientUserAgent: "ua" };
    expect(auditEvent("authentication", "failure", "t", call, 1, merged).details).toEqual({});
  });
});
