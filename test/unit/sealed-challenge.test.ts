import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MAX_CHALLENGE_CHARS, openChallenge, sealChallenge, sealKeyOf, type CeremonyFields } from "../../src/webauthn/sealed-challenge.js";

const key = sealKeyOf(randomBytes(32));
const ceremony: CeremonyFields = {
  kind: "step-up",
  tenant: "acme",
  userId: "user-ü-\u202e",
  userHandle: undefined,
  userVerification: "required",
  operationDigest: randomBytes(32).toString("base64url"),
  createdAt: 1_780_000_000_000,
  expiresAt: 1_780_000_300_000,
  beganBy: { caller: "spiffe://cluster.local/ns/a/sa/b", clientIp: "198.51.100.7", clientUserAgent: "agent" },
};

describe("sealed challenges", () => {
  it("carry the whole ceremony and open with the key that sealed them", () => {
    const challenge = sealChallenge(key, ceremony);
    const opened = openChallenge([sealKeyOf(randomBytes(32)), key], challenge);
    expect(opened?.ceremony).toEqual({ ...ceremony, challenge });
    expect(Buffer.from(opened!.nonce, "base64url")).toHaveLength(12);
  });

  it("carry conditional create, and only when set (other challenges keep their size)", () => {
    const registration: CeremonyFields = { ...ceremony, kind: "registration", operationDigest: undefined, userHandle: "aGFuZGxl" };
    const conditional = sealChallenge(key, { ...registration, conditional: true });
    expect(openChallenge([key], conditional)?.ceremony.conditional).toBe(true);
    const plain = sealChallenge(key, registration);
    expect(openChallenge([key], plain)?.ceremony).not.toHaveProperty("conditional");
    expect(sealChallenge(key, { ...registration, conditional: false })).toHaveLength(plain.length);
    expect(conditional.length).toBeGreaterThan(plain.length);
  });

  it("are fresh each time: a new nonce, so a new consumed-marker key", () => {
    const a = openChallenge([key], sealChallenge(key, ceremony))!;
    const b = openChallenge([key], sealChallenge(key, ceremony))!;
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ceremony.challenge).not.toBe(b.ceremony.challenge);
  });

  it("refuse every altered byte, another key, truncation and non-canonical base64url", () => {
    const challenge = sealChallenge(key, ceremony);
    const bytes = Buffer.from(challenge, "base64url");
    for (let i = 0; i < bytes.length; i++) {
      const altered = Buffer.from(bytes);
      altered[i] = altered[i]! ^ 0x01;
      expect(openChallenge([key], altered.toString("base64url")), `byte ${i}`).toBeUndefined();
    }
    expect(openChallenge([sealKeyOf(randomBytes(32))], challenge)).toBeUndefined();
    expect(openChallenge([key], bytes.subarray(0, bytes.length - 1).toString("base64url"))).toBeUndefined();
    expect(openChallenge([key], `${challenge}=`)).toBeUndefined();
    expect(openChallenge([key], "")).toBeUndefined();
    expect(openChallenge([], challenge)).toBeUndefined();
  });

  it("keep long user agents short so challenges stay small", () => {
    const long = { ...ceremony, beganBy: { ...ceremony.beganBy, clientUserAgent: "x".repeat(1024) } };
    const challenge = sealChallenge(key, long);
    expect(openChallenge([key], challenge)?.ceremony.beganBy.clientUserAgent).toHaveLength(256);
    expect(challenge.length).toBeLessThan(1024);
  });

  it("stay within the bound clientDataJSON accepts, dropping the begin context before anything that decides", () => {
    const worst = {
      ...ceremony,
      userId: "\u0001".repeat(128), // 128 bytes, six characters each in JSON
      userHandle: randomBytes(32).toString("base64url"),
      algorithms: [-8, -7, -257, -35, -36, -37], // a profile naming every supported algorithm
      beganBy: { caller: "\u0001".repeat(512), clientIp: "\u0001".repeat(64), clientUserAgent: "\u0001".repeat(1024) },
    };
    const challenge = sealChallenge(key, worst);
    expect(challenge.length).toBeLessThanOrEqual(MAX_CHALLENGE_CHARS);
    expect(openChallenge([key], challenge)?.ceremony).toEqual({ ...worst, challenge, beganBy: { caller: "", clientIp: "", clientUserAgent: "" } });
  });
});

describe("sealed challenges of profiles", () => {
  it("carry a profile's algorithms, and none when the tenant's list applies", () => {
    const registration: CeremonyFields = { ...ceremony, kind: "registration", operationDigest: undefined, algorithms: [-7, -257] };
    expect(openChallenge([key], sealChallenge(key, registration))?.ceremony.algorithms).toEqual([-7, -257]);
    expect(openChallenge([key], sealChallenge(key, ceremony))?.ceremony.algorithms).toBeUndefined();
  });
});
