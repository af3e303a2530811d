import { describe, expect, it } from "vitest";
import { NO_REQUIREMENT } from "../../src/step-up/requirement.js";
import { bearerChallenge, stepUpChallenge } from "../../src/step-up/www-authenticate.js";

describe("WWW-Authenticate challenges", () => {
  it("writes RFC 9470 / RFC 6750 challenges with quoted parameters", () => {
    expect(stepUpChallenge({ ...NO_REQUIREMENT, acrValues: ["phr", 'x"y'], maxAgeSeconds: 0 })).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A passkey assertion for this operation is required", acr_values="phr x\\"y", max_age="0"',
    );
    expect(bearerChallenge()).toBe("Bearer");
    expect(bearerChallenge("invalid_token")).toBe('Bearer error="invalid_token"');
  });
});
