/**
 * signJwt signs with node:crypto; jose (which verifies every token the service accepts) must read
 * what it signs exactly as it reads what jose's own SignJWT signs, for both key algorithms.
 */
import { decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signJwt, TOKEN_ISSUER, type JwtContent } from "../../src/tokens/jwt.js";
import { generateSigningKey, type SigningAlg } from "../../src/tokens/signing-key.js";

const content: JwtContent = {
  typ: "JWT",
  subject: "user-ü/1",
  jti: "5f0c9b0e-2b8e-4c43-9d7e-2f1a1b6f0c11",
  issuedAt: 1_780_000_000,
  expiresAt: 1_780_003_600,
  claims: { auth_time: 1_780_000_000, amr: ["hwk", "user", "mfa"], acr: "phrh", cid: "Y3JlZA", tid: "default" },
};

describe.each<SigningAlg>(["ES256", "EdDSA"])("signJwt with %s", (alg) => {
  it("gives a token jose verifies with the same header and payload as jose's SignJWT", async () => {
    const key = await generateSigningKey(alg);
    const token = await signJwt(key, content);
    const reference = await new SignJWT(content.claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: content.typ })
      .setIssuer(TOKEN_ISSUER)
      .setSubject(content.subject)
      .setIssuedAt(content.issuedAt)
      .setExpirationTime(content.expiresAt)
      .setJti(content.jti)
      .sign(key.privateKey);
    const options = { issuer: TOKEN_ISSUER, typ: "JWT", algorithms: [alg], currentDate: new Date(content.issuedAt * 1000) };
    const ours = await jwtVerify(token, key.publicKey, options);
    const theirs = await jwtVerify(reference, key.publicKey, options);
    expect(ours.protectedHeader).toEqual(theirs.protectedHeader);
    expect(ours.payload).toEqual(theirs.payload);
    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: key.kid, typ: "JWT" });
  });

  it("is refused by jose under another key or with a changed payload", async () => {
    const key = await generateSigningKey(alg);
    const other = await generateSigningKey(alg);
    const token = await signJwt(key, content);
    const options = { algorithms: [alg], currentDate: new Date(content.issuedAt * 1000) };
    await expect(jwtVerify(token, other.publicKey, options)).rejects.toThrow();
    const [header, , signature] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: "someone-else" })).toString("base64url");
    await expect(jwtVerify(`${header}.${forged}.${signature}`, key.publicKey, options)).rejects.toThrow();
  });
});
