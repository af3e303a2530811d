import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { Decision } from "../../src/gen/authn/v1/step_up_pb.js";
import { createLogger } from "../../src/logger.js";
import { MAX_SESSION_TTL_SECONDS } from "../../src/lifetimes.js";
import { newSessionId } from "../../src/audit/session-id.js";
import { writeNewKeyFile } from "../../src/tokens/key-files.js";
import { issueSessionToken } from "../../src/tokens/session-token.js";
import { openKeyRing, type OpenedKeyRing } from "../../src/tokens/open-key-ring.js";
import { startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { signedInUser, transfer } from "../support/step-up.js";

const HOUR = 3_600_000;
const MONTHLY = { ...TEST_TENANT, id: "monthly", sessionTtlSeconds: MAX_SESSION_TTL_SECONDS };

/**
 * Issue 13, break 11: a retired signing key must stay published while any token it signed can be
 * live, whatever tenant issued it and whatever lifetimes the configuration holds now.
 */
describe("retired signing keys cover every tenant's session lifetime", () => {
  let dir: string;
  let keys: OpenedKeyRing;
  let svc: TestService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "key-retention-"));
    await writeNewKeyFile(dir, "ES256", Date.now() - HOUR);
    // The environment's default tenant lives an hour; the 30-day tenant comes from the tenants file.
    const config = loadConfig({ SIGNING_KEYS_DIR: dir, KEY_RELOAD_SECONDS: "0", SESSION_TTL_SECONDS: "3600" });
    keys = await openKeyRing(config, createLogger("silent"));
    svc = await startTestService(undefined, { keyRing: keys.ring, tenant: { ...TEST_TENANT, sessionTtlSeconds: 3600 }, tenants: [MONTHLY] });
  });
  afterAll(async () => {
    keys?.reloader.stop();
    await svc?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const decision = async (tenant: string, sessionToken: string) =>
    Decision[(await svc.connect.verifyOperation({ tenant, sessionToken, operation: transfer(1) })).decision];
  const servedKids = async () => JSON.parse((await svc.connect.getJwks({})).jwksJson).keys.map((k: { kid: string }) => k.kid);

  it("a 30-day tenant's token, and one issued after a reload lengthened the default tenant's lifetime, outlive a rotation by more than the default lifetime; a forged one does not", async () => {
    const oldKid = keys.ring.signingKey(svc.clock.read()).kid;
    const monthly = (await signedInUser(svc, "month-user", undefined, "monthly")).sessionToken;
    // A reload lengthens the default tenant's lifetime (what TenantsFileReloader applies).
    svc.app.tenants.replace({ ...TEST_TENANT, sessionTtlSeconds: MAX_SESSION_TTL_SECONDS }, [MONTHLY]);
    const lengthened = (await signedInUser(svc, "lengthened-user")).sessionToken;
    for (const token of [monthly, lengthened]) expect(decodeProtectedHeader(token).kid).toBe(oldKid);

    await writeNewKeyFile(dir, "ES256", svc.clock.read());
    expect(await keys.reloader.reload()).toBe(true);
    svc.clock.advance(2 * HOUR); // an hour past the environment's SESSION_TTL_SECONDS

    expect(await servedKids()).toContain(oldKid);
    expect(keys.ring.retired(svc.clock.read())).toEqual([]); // so the log does not call its file deletable
    expect(await decision("monthly", monthly)).toBe("ALLOW");
    expect(await decision("", lengthened)).toBe("ALLOW");

    // Published for so long, a retired key whose file leaks must not mint sessions: VerifyOperation
    // accepts only tokens whose sign-in recorded the session (offline JWKS verifiers cannot tell).
    const authTime = svc.clock.read() - 60_000;
    const claims = { tenant: "monthly", userId: "month-user", credentialId: "any", authTime, amr: ["hwk"], acr: "phr" };
    const retiredKey = keys.ring.keys.find((k) => k.kid === oldKid)!;
    const forged = await issueSessionToken(retiredKey, { ...claims, jti: newSessionId("month-user", authTime) }, 3600);
    expect(await decision("monthly", forged.token)).toBe("DENY");

    // Once the longest lifetime any configuration allows has passed, every token it signed has expired.
    svc.clock.advance(MAX_SESSION_TTL_SECONDS * 1000);
    expect(await servedKids()).not.toContain(oldKid);
    expect(keys.ring.retired(svc.clock.read()).map((k) => k.kid)).toEqual([oldKid]);
  });

});
