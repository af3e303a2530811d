import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHALLENGE_RETENTION_MS } from "../../src/lifetimes.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";
import { sealChallenge, sealKeyOf } from "../../src/webauthn/sealed-challenge.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { ORIGIN, startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/** Challenges are sealed with a key of the signing key ring; a rotation must not break ceremonies in flight. */
describe("sealed challenges across key rotation and tampering", () => {
  let svc: TestService;
  const authenticator = new SoftAuthenticator();

  beforeAll(async () => {
    svc = await startTestService();
    await register(svc, authenticator, "rotating");
  });
  afterAll(() => svc.close());

  const begin = async () => (await svc.connect.beginAuthentication({ userId: "rotating" })).optionsJson;
  const answer = (optionsJson: string) => JSON.stringify(authenticator.get(optionsJson, ORIGIN));

  it("a ceremony begun before a rotation finishes after it, while the old key is in the ring; not once it is gone", async () => {
    const beforeRotation = await begin();
    const alsoBefore = await begin();
    const successor = await generateSigningKey("ES256", svc.clock.read());
    svc.app.keys.replace([svc.signingKey, successor]);
    try {
      const sealedByNewKey = await begin();
      await expect(svc.connect.finishAuthentication({ credentialJson: answer(beforeRotation) })).resolves.toMatchObject({ userId: "rotating" });
      await expect(svc.connect.finishAuthentication({ credentialJson: answer(sealedByNewKey) })).resolves.toMatchObject({ userId: "rotating" });
      // The old key's file deleted: what it sealed no longer opens.
      svc.app.keys.replace([successor]);
      await expectRpcError(svc.connect.finishAuthentication({ credentialJson: answer(alsoBefore) }), Code.Unauthenticated, "CHALLENGE_INVALID");
    } finally {
      svc.app.keys.replace([svc.signingKey]);
    }
  });

  it("a key retired longer than a challenge lifetime ago opens no challenge: its leaked file cannot forge a registration", async () => {
    const begin = await svc.connect.beginRegistration({ userId: "victim", userName: "victim@example.com" });
    const options = JSON.parse(begin.optionsJson) as { user: { id: string } };
    // What the holder of the old key's file can seal: a registration for the victim, expiring whenever it likes.
    const forge = (now = svc.clock.read()) =>
      sealChallenge(sealKeyOf(svc.signingKey.derivedSecret), {
        kind: "registration",
        tenant: "default",
        userId: "victim",
        userHandle: options.user.id,
        userVerification: "preferred",
        createdAt: now,
        expiresAt: now + 86_400_000,
        beganBy: { caller: "", clientIp: "", clientUserAgent: "" },
      });
    const finish = () =>
      svc.connect.finishRegistration({
        credentialJson: JSON.stringify(new SoftAuthenticator().create(JSON.stringify({ ...options, challenge: forge() }), ORIGIN)),
      });
    svc.app.keys.replace([svc.signingKey, await generateSigningKey("ES256", svc.clock.read())]);
    try {
      // Within a challenge lifetime of its retirement the key still opens what it sealed (ceremonies in flight).
      svc.clock.advance(CHALLENGE_RETENTION_MS - 60_000);
      await expect(finish()).resolves.toMatchObject({ credential: { userId: "victim" } });
      svc.clock.advance(61_000);
      await expectRpcError(finish(), Code.Unauthenticated, "CHALLENGE_INVALID");
      expect((await svc.connect.listCredentials({ userId: "victim" })).credentials).toHaveLength(1);
    } finally {
      svc.app.keys.replace([svc.signingKey]);
    }
  });

  it("an altered challenge is unknown, and the refusal leaves the real one usable", async () => {
    const optionsJson = await begin();
    const options = JSON.parse(optionsJson) as { challenge: string };
    const bytes = Buffer.from(options.challenge, "base64url");
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0x80; // inside the ciphertext
    const forged = JSON.stringify({ ...options, challenge: bytes.toString("base64url") });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: answer(forged) }), Code.Unauthenticated, "CHALLENGE_INVALID");
    await expect(svc.connect.finishAuthentication({ credentialJson: answer(optionsJson) })).resolves.toMatchObject({ userId: "rotating" });
  });

  it("a registration challenge is no sign-in challenge", async () => {
    const registration = await svc.connect.beginRegistration({ userId: "rotating", userName: "rotating@example.com" });
    const { challenge } = JSON.parse(registration.optionsJson) as { challenge: string };
    const signIn = JSON.parse(await begin()) as Record<string, unknown>;
    const credentialJson = answer(JSON.stringify({ ...signIn, challenge }));
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson }), Code.Unauthenticated, "CHALLENGE_INVALID");
    // Nothing was used up: the user's next sign-in goes through.
    await expect(svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "rotating") })).resolves.toMatchObject({
      userId: "rotating",
    });
  });
});
