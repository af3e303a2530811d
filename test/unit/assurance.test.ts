import { describe, expect, it } from "vitest";
import { assuranceOf } from "../../src/webauthn/assurance.js";

describe("assuranceOf", () => {
  it.each([
    [{ backupEligible: false, userVerified: true }, ["hwk", "user", "mfa"], "phrh"],
    [{ backupEligible: true, userVerified: true }, ["swk", "user", "mfa"], "phr"],
    [{ backupEligible: false, userVerified: false }, ["hwk", "user"], "phrh"],
  ])("%j → amr %j, acr %s", (flags, amr, acr) => {
    expect(assuranceOf(flags)).toEqual({ amr, acr });
  });
});
