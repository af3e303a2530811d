import { describe, expect, it } from "vitest";
import { NO_REQUIREMENT, shortfall } from "../../src/step-up/requirement.js";

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
});
