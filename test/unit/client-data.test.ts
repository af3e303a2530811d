import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AuthError } from "../../src/errors.js";
import { checkRpIdHash } from "../../src/webauthn/client-data.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest();

describe("checkRpIdHash", () => {
  it("accepts each RP ID's own hash and refuses another's, however the checks interleave (the hashes are remembered)", () => {
    const ids = ["login.example.com", "example.org", "login.example.com.", "LOGIN.EXAMPLE.COM"];
    for (let round = 0; round < 3; round++) {
      for (const rpId of ids) {
        for (const hashed of ids) {
          if (hashed === rpId) expect(() => checkRpIdHash(sha256(hashed), rpId)).not.toThrow();
          else expect(() => checkRpIdHash(sha256(hashed), rpId)).toThrow(expect.objectContaining({ reason: "RP_ID_MISMATCH" }) as AuthError);
        }
      }
    }
  });

  it("refuses a truncated or empty hash", () => {
    const full = sha256("example.org");
    expect(() => checkRpIdHash(full.subarray(0, 31), "example.org")).toThrow(AuthError);
    expect(() => checkRpIdHash(new Uint8Array(0), "example.org")).toThrow(AuthError);
  });
});
