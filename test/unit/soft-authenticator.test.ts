import { describe, it, expect } from "vitest";
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from "@simplewebauthn/server";
import { SoftAuthenticator, type CeremonyOverrides, type CoseAlg } from "../support/soft-authenticator.js";

const rpID = "localhost";
const origin = "http://localhost:8080";
const supportedAlgorithmIDs = [-7, -8, -257];
const algs: CoseAlg[] = [-7, -8, -257];

async function register(auth: SoftAuthenticator, excludeCredentials: { id: string }[] = []) {
  const options = await generateRegistrationOptions({
    rpName: "dynauthn test",
    rpID,
    userName: "alice",
    supportedAlgorithmIDs,
    excludeCredentials,
  });
  const response = auth.create(JSON.stringify(options), origin);
  const result = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    supportedAlgorithmIDs,
  });
  if (!result.verified) throw new Error("registration did not verify");
  return { options, response, info: result.registrationInfo };
}

async function authenticate(auth: SoftAuthenticator, credential: WebAuthnCredential, overrides: CeremonyOverrides = {}) {
  const options = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: credential.id }] });
  const response = auth.get(options, origin, overrides);
  const result = await verifyAuthenticationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential,
  });
  return { response, result };
}

describe("SoftAuthenticator", () => {
  describe.each(algs)("alg %i", (alg) => {
    it.each(["none", "packed-self"] as const)("registration with %s attestation verifies", async (attestation) => {
      const aaguid = "01020304-0506-0708-090a-0b0c0d0e0f10";
      const auth = new SoftAuthenticator({ alg, attestation, aaguid, backupEligible: true });
      const { response, info } = await register(auth);

      expect(info.fmt).toBe(attestation === "packed-self" ? "packed" : "none");
      expect(info.aaguid).toBe(aaguid);
      expect(info.credential.id).toBe(response.id);
      expect(info.credential.counter).toBe(0);
      expect(info.userVerified).toBe(true);
      expect(info.credentialDeviceType).toBe("multiDevice");
      expect(info.credentialBackedUp).toBe(true);
      expect(response.response.publicKeyAlgorithm).toBe(alg);
      expect(auth.credentialIds()).toEqual([response.id]);
    });

    it("assertions verify and the counter increments", async () => {
      const auth = new SoftAuthenticator({ alg });
      const { options: regOptions, info } = await register(auth);

      const first = await authenticate(auth, info.credential);
      expect(first.result.verified).toBe(true);
      expect(first.result.authenticationInfo.newCounter).toBe(1);
      expect(first.response.response.userHandle).toBe(regOptions.user.id);

      const second = await authenticate(auth, { ...info.credential, counter: 1 });
      expect(second.result.verified).toBe(true);
      expect(second.result.authenticationInfo.newCounter).toBe(2);
    });
  });

  it('counter "zero" keeps reporting 0', async () => {
    const auth = new SoftAuthenticator({ counter: "zero" });
    const { info } = await register(auth);
    for (let i = 0; i < 2; i++) {
      const { result } = await authenticate(auth, info.credential);
      expect(result.verified).toBe(true);
      expect(result.authenticationInfo.newCounter).toBe(0);
    }
  });

  it("finds a discoverable credential by rpId when allowCredentials is empty", async () => {
    const auth = new SoftAuthenticator();
    const { info } = await register(auth);
    const options = await generateAuthenticationOptions({ rpID });
    expect(auth.get(options, origin).id).toBe(info.credential.id);
    expect(() => auth.get({ ...options, rpId: "other.example" }, origin)).toThrow(
      expect.objectContaining({ name: "NotAllowedError" }),
    );
  });

  it("a tampered origin is rejected by the library", async () => {
    const auth = new SoftAuthenticator();
    const { info } = await register(auth);
    await expect(authenticate(auth, info.credential, { origin: "https://evil.example" })).rejects.toThrow(
      /origin/i,
    );
  });

  it("a cloned credential replays an old counter", async () => {
    const original = new SoftAuthenticator();
    const clone = new SoftAuthenticator();
    const { info } = await register(original);
    original.cloneInto(clone, info.credential.id);

    const first = await authenticate(original, info.credential);
    expect(first.result.authenticationInfo.newCounter).toBe(1);
    // The clone still starts from counter 0, so it reports 1 again: the library must flag it.
    await expect(authenticate(clone, { ...info.credential, counter: 1 })).rejects.toThrow(/counter/i);
  });

  it("excludeCredentials makes create() throw InvalidStateError", async () => {
    const auth = new SoftAuthenticator();
    const { response } = await register(auth);
    await expect(register(auth, [{ id: response.id }])).rejects.toThrow(
      expect.objectContaining({ name: "InvalidStateError" }),
    );
  });

  it("create() throws NotSupportedError when its alg is not offered", async () => {
    const options = await generateRegistrationOptions({ rpName: "t", rpID, userName: "bob", supportedAlgorithmIDs: [-7] });
    expect(() => new SoftAuthenticator({ alg: -8 }).create(options, origin)).toThrow(
      expect.objectContaining({ name: "NotSupportedError" }),
    );
  });

  it("conditional create sends UP=0 and UV=0, which the library accepts only without requireUserPresence", async () => {
    const options = await generateRegistrationOptions({ rpName: "t", rpID, userName: "carol", supportedAlgorithmIDs });
    const response = new SoftAuthenticator().create(options, origin, { conditional: true });
    const expected = { response, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID, supportedAlgorithmIDs };
    await expect(verifyRegistrationResponse({ ...expected, requireUserVerification: false })).rejects.toThrow(/user presence|not present/i);
    const accepted = await verifyRegistrationResponse({ ...expected, requireUserVerification: false, requireUserPresence: false });
    expect(accepted.registrationInfo?.userVerified).toBe(false);
  });

  it("reports the extension outputs asked for; PRF is a stable function of credential and salt", async () => {
    const auth = new SoftAuthenticator({ prf: true, largeBlob: true, discoverable: false });
    const salt = Buffer.alloc(32, 3).toString("base64url");
    const options = await generateRegistrationOptions({ rpName: "t", rpID, userName: "dave", supportedAlgorithmIDs });
    const created = auth.create({ ...options, extensions: { credProps: true, prf: {}, largeBlob: { support: "preferred" } } }, origin);
    expect(created.clientExtensionResults).toEqual({ credProps: { rk: false }, prf: { enabled: true }, largeBlob: { supported: true } });
    expect(new SoftAuthenticator().create({ ...options, extensions: undefined }, origin).clientExtensionResults).toEqual({});
    const get = (first: string) =>
      auth.get({ challenge: "Y2g", rpId: rpID, allowCredentials: [{ id: created.id, type: "public-key" }], extensions: { prf: { eval: { first } } } }, origin)
        .clientExtensionResults as unknown as { prf: { results: { first: string } } };
    expect(get(salt).prf.results.first).toBe(get(salt).prf.results.first);
    expect(get(salt).prf.results.first).not.toBe(get("").prf.results.first);
  });
});
