import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { TOKEN_RETENTION_MS } from "../../src/lifetimes.js";
import { JWKS_PATH } from "../../src/tokens/jwks.js";
import { writeNewKeyFile } from "../../src/tokens/key-files.js";
import { openKeyRing, type OpenedKeyRing } from "../../src/tokens/open-key-ring.js";
import { startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { signedInUser, transfer } from "../support/step-up.js";

const DAY = 86_400_000;

/** Polls until `check` passes (the key directory is re-read every second). */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if (await check()) return;
  }
  throw new Error("condition not met in time");
}

describe("JWKS: GetJwks and GET /.well-known/jwks.json from a rotating key directory", () => {
  let dir: string;
  let keys: OpenedKeyRing;
  let svc: TestService;
  let jwksUrl: URL;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "jwks-"));
    await writeNewKeyFile(dir, "ES256", Date.now() - DAY);
    const config = loadConfig({ SIGNING_KEYS_DIR: dir, KEY_RELOAD_SECONDS: "1", SESSION_TTL_SECONDS: String(TEST_TENANT.sessionTtlSeconds) });
    keys = await openKeyRing(config, createLogger("silent"));
    svc = await startTestService(undefined, { keyRing: keys.ring });
    jwksUrl = new URL(JWKS_PATH, svc.baseUrl);
  });
  afterAll(async () => {
    keys?.reloader.stop();
    await svc?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const servedKids = async () => ((await (await fetch(jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

  it("serves the set over plain HTTP with cache headers and a conditional GET, and the same set over GetJwks", async () => {
    const res = await fetch(jwksUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/jwk-set+json");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const body = await res.text();
    const [key] = JSON.parse(body).keys;
    expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid: svc.signingKey.kid });
    expect(key).not.toHaveProperty("d");

    const again = await fetch(jwksUrl, { headers: { "if-none-match": res.headers.get("etag")! } });
    expect(again.status).toBe(304);
    expect((await fetch(new URL("?x=1", jwksUrl))).status).toBe(200);
    expect((await fetch(jwksUrl, { method: "POST" })).status).toBe(405);

    const rpc = await svc.connect.getJwks({});
    expect(rpc.jwksJson).toBe(body);
    expect(rpc.maxAge?.seconds).toBe(300n);
  });

  it("an independent verifier (jose's remote JWKS) accepts tokens before and after a rotation; the old key leaves when its tokens have expired", async () => {
    const jwks = createRemoteJWKSet(jwksUrl, { cooldownDuration: 0 });
    const verify = (token: string, typ = "JWT") =>
      jwtVerify(token, jwks, { issuer: "dynauthn", typ, currentDate: new Date(svc.clock.read()) });
    const before = await signedInUser(svc, "alice");
    await expect(verify(before.sessionToken)).resolves.toMatchObject({ payload: { sub: "alice" } });

    // Rotation: a new (EdDSA) key file appears in the directory; the running service picks it up.
    const next = await writeNewKeyFile(dir, "EdDSA", svc.clock.read());
    await eventually(async () => (await servedKids()).includes(next.key.kid));
    const after = await signedInUser(svc, "alice");
    expect(decodeProtectedHeader(after.sessionToken)).toMatchObject({ alg: "EdDSA", kid: next.key.kid });
    await expect(verify(after.sessionToken)).resolves.toMatchObject({ payload: { sub: "alice" } });
    await expect(verify(before.sessionToken)).resolves.toMatchObject({ payload: { sub: "alice" } });

    const allowed = await svc.connect.verifyOperation({ sessionToken: after.sessionToken, operation: transfer(1) });
    const grant = allowed.details.case === "allowed" ? allowed.details.value.stepUpGrant : "";
    await expect(verify(grant, "dynauthn-step-up+jwt")).resolves.toMatchObject({ payload: { sub: "alice" } });

    // Every token the old key signed has expired after the longest lifetime any configuration
    // allows (a tenant's may have been longer when it signed): only then does it drop out.
    svc.clock.advance(TEST_TENANT.sessionTtlSeconds * 1000 + 1000);
    expect(await servedKids()).toEqual([svc.signingKey.kid, next.key.kid]);
    svc.clock.advance(TOKEN_RETENTION_MS);
    expect(await servedKids()).toEqual([next.key.kid]);
    await expect(jwtVerify(before.sessionToken, createRemoteJWKSet(jwksUrl))).rejects.toThrow(/no applicable key/);
  });
});
