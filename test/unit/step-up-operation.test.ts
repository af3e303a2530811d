import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { operationDigest, type Operation } from "../../src/step-up/operation.js";

const op: Operation = {
  name: "payments.transfer",
  resource: "accounts/123",
  payloadDigest: createHash("sha256").update('{"amount":500}').digest(),
  displayText: "Transfer 500 EUR",
};

describe("operation binding", () => {
  it("digests every field unambiguously", () => {
    const digest = operationDigest(op);
    expect(Buffer.from(digest, "base64url")).toHaveLength(32);
    expect(operationDigest({ ...op })).toBe(digest);
    const variants: Operation[] = [
      { ...op, name: "payments.transfers" },
      { ...op, resource: "accounts/124" },
      { ...op, payloadDigest: createHash("sha256").update('{"amount":5000}').digest() },
      { ...op, displayText: "Transfer 5000 EUR" },
      // Moving text between fields must not collide: JSON keeps field boundaries.
      { ...op, name: "payments.transfer\",\"accounts/123", resource: "" },
    ];
    for (const v of variants) expect(operationDigest(v)).not.toBe(digest);
  });
});
