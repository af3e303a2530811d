import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { decodeProtectedHeader } from "jose";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { activationOf, keyFileName, parseKeyFiles, readKeyDirectory, writeNewKeyFile } from "../../src/tokens/key-files.js";
import { CHALLENGE_RETENTION_MS, MAX_SESSION_TTL_SECONDS } from "../../src/lifetimes.js";
import { KeyRing } from "../../src/tokens/key-ring.js";
import { KeyRingReloader } from "../../src/tokens/key-ring-reloader.js";
import { generateSigningKey, newPrivateKey } from "../../src/tokens/signing-key.js";
import { issueStepUpGrant, verifyStepUpGrant } from "../../src/tokens/step-up-grant.js";
import { VerifiedTokens } from "../../src/tokens/verified-tokens.js";

const T0 = Date.UTC(2026, 10, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const grantClaims = {
  tenant: "default",
  userId: "alice",
  credentialId: "cred",
  authTime: T0,
  acr: "phrh",
  amr: ["hwk", "user", "mfa"],
  operation: "op-digest",
  once: false,
  asserted: true,
  sessionId: "session-1",
};

/** A logger whose JSON lines the test can read. */
function capturingLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, cb) => (out.push(String(chunk)), cb()) });
  return { logger: pino({ level: "info" }, stream), lines: () => out.map((l) => JSON.parse(l)) };
}

describe("key ring", () => {
  it("signs with the newest active key, publishes a future key early and a retired one until its tokens expire", async () => {
    const old = await generateSigningKey("ES256", T0);
    const current = await generateSigningKey("ES256", T0 + DAY);
    const next = await generateSigningKey("EdDSA", T0 + 2 * DAY);
    const ring = new KeyRing([next, old, current], HOUR);

    const kids = (now: number) => ring.jwks(now).keys.map((k) => k.kid);
    expect(ring.signingKey(T0 + DAY + 1).kid).toBe(current.kid);
    expect(kids(T0 + DAY + 1)).toEqual([old.kid, current.kid, next.kid]); // old: still within retention
    expect(kids(T0 + DAY + HOUR)).toEqual([current.kid, next.kid]); // old: every token it signed has expired
    expect(ring.retired(T0 + DAY + HOUR).map((k) => k.kid)).toEqual([old.kid]);
    expect(ring.signingKey(T0 + 2 * DAY).kid).toBe(next.kid);
    expect(ring.jwks(T0).keys.find((k) => k.kid === next.kid)).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(ring.jwks(T0).keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(ring.jwks(T0).keys[0]).not.toHaveProperty("d");

    expect(ring.verificationKey(old.kid, "ES256", T0 + DAY + 1)).toBe(old.publicKey);
    expect(ring.verificationKey(old.kid, "ES256", T0 + DAY + HOUR)).toBeUndefined();
    expect(ring.verificationKey(current.kid, "EdDSA", T0 + DAY)).toBeUndefined(); // alg must match the key
    expect(ring.verificationKey("unknown", "ES256", T0)).toBeUndefined();
  });

  it("by default verifies tokens for the longest session lifetime any configuration allows, and opens challenges for the longest challenge lifetime", async () => {
    const old = await generateSigningKey("ES256", T0);
    const current = await generateSigningKey("ES256", T0 + DAY);
    const ring = new KeyRing([old, current]);
    const kids = (keys: { kid: string }[]) => keys.map((k) => k.kid);
    expect(kids(ring.challengeKeys(T0 + DAY + CHALLENGE_RETENTION_MS - 1))).toEqual([old.kid, current.kid]);
    expect(kids(ring.challengeKeys(T0 + DAY + CHALLENGE_RETENTION_MS))).toEqual([current.kid]);
    expect(ring.verificationKey(old.kid, "ES256", T0 + DAY + CHALLENGE_RETENTION_MS)).toBe(old.publicKey);
    expect(ring.verificationKey(old.kid, "ES256", T0 + DAY + MAX_SESSION_TTL_SECONDS * 1000 - 1)).toBe(old.publicKey);
    expect(ring.verificationKey(old.kid, "ES256", T0 + DAY + MAX_SESSION_TTL_SECONDS * 1000)).toBeUndefined();
    // A key that does not sign yet already opens challenges: a replica whose clock runs ahead may seal with it.
    const next = await generateSigningKey("ES256", T0 + 2 * DAY);
    ring.replace([old, current, next]);
    expect(kids(ring.challengeKeys(T0 + DAY + CHALLENGE_RETENTION_MS))).toEqual([current.kid, next.kid]);
  });

  it("signs and verifies EdDSA grants, and refuses them once the key has left the ring", async () => {
    const ed = await generateSigningKey("EdDSA", T0);
    const ring = new KeyRing([ed], HOUR);
    const { token } = await issueStepUpGrant(ring.signingKey(T0), grantClaims, T0, 300);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "EdDSA", kid: ed.kid, typ: "dynauthn-step-up+jwt" });
    await expect(verifyStepUpGrant(new VerifiedTokens(ring, 0), token, T0 + 1000)).resolves.toMatchObject({ userId: "alice", operation: "op-digest" });
    await expect(verifyStepUpGrant(new VerifiedTokens(ring, 0), token, T0 + 301_000)).rejects.toMatchObject({ failure: "EXPIRED" });

    ring.replace([await generateSigningKey("ES256", T0)]);
    await expect(verifyStepUpGrant(new VerifiedTokens(ring, 0), token, T0 + 1000)).rejects.toMatchObject({ failure: "INVALID" });
  });
});

describe("key files", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "keys-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("names files by activation time and reads them back", () => {
    const name = keyFileName(Date.UTC(2026, 10, 15, 12, 0, 0), "abcdefghijk");
    expect(name).toBe("20261115T120000Z-abcdefgh.pem");
    expect(activationOf(name)).toBe(Date.UTC(2026, 10, 15, 12, 0, 0));
    expect(activationOf("20261115T120000Z.pem")).toBe(Date.UTC(2026, 10, 15, 12, 0, 0));
    expect(activationOf("20261345T120000Z.pem")).toBeUndefined(); // month 13 does not roll over
    expect(activationOf("signing.pem")).toBeUndefined();
  });

  it("loads a Kubernetes Secret volume (dot-dirs, symlinks) and refuses misnamed keys", async () => {
    const dir = tempDir();
    const written = await writeNewKeyFile(join(dir, "..2026_11_24"), "ES256", T0);
    // A Secret volume: files are links into a timestamped dot-directory behind `..data`.
    symlinkSync("..2026_11_24", join(dir, "..data"));
    const name = written.path.split("/").pop()!;
    symlinkSync(join("..data", name), join(dir, name));

    const keys = await parseKeyFiles(await readKeyDirectory(dir));
    expect(keys.map((k) => [k.kid, k.activatesAt])).toEqual([[written.key.kid, T0]]);

    writeFileSync(join(dir, "signing.pem"), newPrivateKey().export({ format: "pem", type: "pkcs8" }));
    await expect(readKeyDirectory(dir)).rejects.toThrow(/name key files by their activation time/);
    rmSync(join(dir, "signing.pem"));
    writeFileSync(join(dir, "20261101T000000Z-rsa.pem"), "not a key");
    await expect(readKeyDirectory(dir).then(parseKeyFiles)).rejects.toThrow(/20261101T000000Z-rsa\.pem/);
  });

  it("reloads a rotated directory without a restart, keeps the ring on a bad reload, warns when rotation is due", async () => {
    const dir = tempDir();
    const first = await writeNewKeyFile(dir, "ES256", T0);
    const load = async () => parseKeyFiles(await readKeyDirectory(dir));
    const ring = new KeyRing(await load(), HOUR);
    let now = T0 + 400 * DAY;
    const { logger, lines } = capturingLogger();
    const reloader = new KeyRingReloader({ ring, load, logger, clock: () => now, rotationDays: 365 });

    expect(await reloader.reload()).toBe(false);
    expect(lines().filter((l) => l.event === "signing_key_rotation_due")).toMatchObject([{ kid: first.key.kid, ageDays: 400 }]);
    expect(await reloader.reload()).toBe(false); // the warning repeats at most daily
    expect(lines().filter((l) => l.event === "signing_key_rotation_due")).toHaveLength(1);

    const second = await writeNewKeyFile(dir, "ES256", now);
    expect(await reloader.reload()).toBe(true);
    expect(ring.signingKey(now).kid).toBe(second.key.kid);
    expect(ring.jwks(now).keys.map((k) => k.kid)).toEqual([first.key.kid, second.key.kid]);
    expect(reloader.activeKeyAgeDays()).toBe(0);

    writeFileSync(join(dir, "20270101T000000Z.pem"), "garbage");
    expect(await reloader.reload()).toBe(false);
    expect(ring.signingKey(now).kid).toBe(second.key.kid);
    expect(lines().some((l) => l.event === "signing_keys_reload_failed")).toBe(true);

    now += HOUR;
    rmSync(join(dir, "20270101T000000Z.pem"));
    rmSync(first.path); // the retired key's file is deleted: it is gone from the ring
    expect(await reloader.reload()).toBe(true);
    expect(ring.keys.map((k) => k.kid)).toEqual([second.key.kid]);
  });
});
