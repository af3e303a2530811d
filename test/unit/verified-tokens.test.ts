import pino from "pino";
import { describe, expect, it } from "vitest";
import { KeyRing } from "../../src/tokens/key-ring.js";
import { KeyRingReloader } from "../../src/tokens/key-ring-reloader.js";
import { issueSessionToken, SESSION_TOKEN_TYPE, verifySessionToken } from "../../src/tokens/session-token.js";
import { generateSigningKey, type SigningKey } from "../../src/tokens/signing-key.js";
import { STEP_UP_GRANT_TYPE } from "../../src/tokens/step-up-grant.js";
import { VerifiedTokens } from "../../src/tokens/verified-tokens.js";

const T0 = Date.UTC(2026, 10, 1);
const HOUR = 3_600_000;

const claims = { jti: "s1", tenant: "default", userId: "alice", credentialId: "cred", authTime: T0, amr: ["hwk", "user"], acr: "phrh" };

async function session(key: SigningKey, ttlSeconds = 600, jti = "s1"): Promise<string> {
  return (await issueSessionToken(key, { ...claims, jti }, ttlSeconds)).token;
}

/** The same token with one character of its signature changed (still valid base64url). */
function oneByteOff(token: string): string {
  const i = token.length - 5;
  return token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
}

describe("verified-token cache", () => {
  it("serves a repeat from the cache until the token's exp at the injected clock, then refuses it as expired", async () => {
    const key = await generateSigningKey("ES256", T0);
    const tokens = new VerifiedTokens(new KeyRing([key]));
    const token = await session(key, 600);
    const first = await tokens.verify(token, SESSION_TOKEN_TYPE, T0 + 1000);
    // The very object verified the first time: a lookup, not a second signature check.
    expect(await tokens.verify(token, SESSION_TOKEN_TYPE, T0 + 2000)).toBe(first);
    expect(await tokens.verify(token, SESSION_TOKEN_TYPE, T0 + 600_000 - 1)).toBe(first);
    expect(tokens.size).toBe(1);
    await expect(tokens.verify(token, SESSION_TOKEN_TYPE, T0 + 600_000)).rejects.toMatchObject({ failure: "EXPIRED" });
    await expect(verifySessionToken(tokens, token, T0 + 700_000)).rejects.toMatchObject({ failure: "EXPIRED" });
  });

  it("refuses a cached token from the reload that removes its key from the ring", async () => {
    const old = await generateSigningKey("ES256", T0);
    const fresh = await generateSigningKey("ES256", T0);
    const ring = new KeyRing([old, fresh]);
    const tokens = new VerifiedTokens(ring);
    const byOld = await session(old, 600, "by-old");
    const byFresh = await session(fresh, 600, "by-fresh");
    await tokens.verify(byOld, SESSION_TOKEN_TYPE, T0 + 1000);
    await tokens.verify(byFresh, SESSION_TOKEN_TYPE, T0 + 1000);

    let keys = [old, fresh];
    const reloader = new KeyRingReloader({ ring, load: async () => keys, logger: pino({ level: "silent" }), clock: () => T0, rotationDays: 365 });
    keys = [fresh];
    expect(await reloader.reload()).toBe(true);
    expect(tokens.size).toBe(0);
    await expect(tokens.verify(byOld, SESSION_TOKEN_TYPE, T0 + 2000)).rejects.toMatchObject({ failure: "INVALID" });
    await expect(tokens.verify(byFresh, SESSION_TOKEN_TYPE, T0 + 2000)).resolves.toMatchObject({ jti: "by-fresh" });
  });

  it("refuses a cached token once its key has retired with time, with no reload", async () => {
    const old = await generateSigningKey("ES256", T0);
    const successor = await generateSigningKey("ES256", T0 + HOUR);
    const ring = new KeyRing([old, successor], HOUR);
    const tokens = new VerifiedTokens(ring);
    const token = await session(old, 3 * 3600); // outlives the shortened retention on purpose
    await tokens.verify(token, SESSION_TOKEN_TYPE, T0 + 1000);
    await expect(tokens.verify(token, SESSION_TOKEN_TYPE, T0 + 2 * HOUR - 1)).resolves.toMatchObject({ jti: "s1" });
    await expect(tokens.verify(token, SESSION_TOKEN_TYPE, T0 + 2 * HOUR)).rejects.toMatchObject({ failure: "INVALID" });
  });

  it("treats a token that differs by one byte as a miss, and never caches a refusal", async () => {
    const key = await generateSigningKey("ES256", T0);
    const tokens = new VerifiedTokens(new KeyRing([key]));
    const token = await session(key);
    await tokens.verify(token, SESSION_TOKEN_TYPE, T0 + 1000);
    for (let i = 0; i < 3; i++) {
      await expect(tokens.verify(oneByteOff(token), SESSION_TOKEN_TYPE, T0 + 1000)).rejects.toMatchObject({ failure: "INVALID" });
    }
    await expect(tokens.verify("garbage", SESSION_TOKEN_TYPE, T0 + 1000)).rejects.toMatchObject({ failure: "INVALID" });
    expect(tokens.size).toBe(1);
    // A cached session token is still no step-up grant: the type is part of the key.
    await expect(tokens.verify(token, STEP_UP_GRANT_TYPE, T0 + 1000)).rejects.toMatchObject({ failure: "INVALID" });
  });

  it("holds at most its bound, and caches nothing when the bound is 0", async () => {
    const key = await generateSigningKey("ES256", T0);
    const ring = new KeyRing([key]);
    const bounded = new VerifiedTokens(ring, 2);
    const off = new VerifiedTokens(ring, 0);
    for (const jti of ["a", "b", "c"]) {
      const token = await session(key, 600, jti);
      await bounded.verify(token, SESSION_TOKEN_TYPE, T0 + 1000);
      const once = await off.verify(token, SESSION_TOKEN_TYPE, T0 + 1000);
      expect(await off.verify(token, SESSION_TOKEN_TYPE, T0 + 1000)).not.toBe(once);
    }
    expect(bounded.size).toBe(2);
    expect(off.size).toBe(0);
  });

  it("shares no payload a caller could change", async () => {
    const key = await generateSigningKey("ES256", T0);
    const tokens = new VerifiedTokens(new KeyRing([key]));
    const payload = await tokens.verify(await session(key), SESSION_TOKEN_TYPE, T0 + 1000);
    expect(Object.isFrozen(payload)).toBe(true);
    expect(Object.isFrozen(payload.amr)).toBe(true);
  });
});
