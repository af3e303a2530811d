import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { operationDigest, type Operation } from "../../src/step-up/operation.js";
import { NO_REQUIREMENT, shortfall } from "../../src/step-up/requirement.js";
import { bearerChallenge, stepUpChallenge } from "../../src/step-up/www-authenticate.js";

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

describe("requirements (RFC 9470)", () => {
  const now = Date.UTC(2026, 10, 1);
  const hardware = { authTime: now - 60_000, acr: "phrh", amr: ["hwk", "user", "mfa"] };
  const synced = { authTime: now - 60_000, acr: "phr", amr: ["swk", "user"] };

  it("names the first unmet part", () => {
    expect(shortfall(NO_REQUIREMENT, synced, now)).toBeUndefined();
    expect(shortfall({ ...NO_REQUIREMENT, maxAgeSeconds: 60 }, hardware, now)).toBeUndefined();
    expect(shortfall({ ...NO_REQUIREMENT, maxAgeSeconds: 59 }, hardware, now)).toBe("max_age");
    expect(shortfall({ ...NO_REQUIREMENT, requireUserVerification: true }, synced, now)).toBe("user_verification");
    expect(shortfall({ ...NO_REQUIREMENT, requireDeviceBound: true }, synced, now)).toBe("device_bound");
    expect(shortfall({ ...NO_REQUIREMENT, acrValues: ["phrh"] }, synced, now)).toBe("acr");
    expect(shortfall({ ...NO_REQUIREMENT, acrValues: ["phr"] }, hardware, now)).toBeUndefined(); // phrh ⊃ phr
    expect(shortfall({ ...NO_REQUIREMENT, acrValues: ["urn:example:loa3"] }, hardware, now)).toBe("acr");
  });

  it("writes RFC 9470 / RFC 6750 challenges with quoted parameters", () => {
    expect(stepUpChallenge({ ...NO_REQUIREMENT, acrValues: ["phr", 'x"y'], maxAgeSeconds: 0 })).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A passkey assertion for this operation is required", acr_values="phr x\\"y", max_age="0"',
    );
    expect(bearerChallenge()).toBe("Bearer");
    expect(bearerChallenge("invalid_token")).toBe('Bearer error="invalid_token"');
  });
});
