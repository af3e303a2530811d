import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_CREDENTIAL_JSON_BYTES } from "../../src/webauthn/credential-json.js";
import { createStore, type Store } from "../../src/store/index.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { ORIGIN, startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/**
 * Every attack is refused with the right code and reason, and leaves no trace: the credential's
 * counter and last use stay as they were, and where the refusal needs no stored state the
 * challenge stays usable for the honest answer.
 */
describe("attacks on the ceremonies", () => {
  let svc: TestService;
  let store: Store;

  beforeAll(async () => {
    svc = await startTestService();
    store = createStore(svc.dynamo, svc.tablePrefix);
  });
  afterAll(() => svc?.close());

  async function enrolled(userId: string, opts?: ConstructorParameters<typeof SoftAuthenticator>[0]) {
    const authenticator = new SoftAuthenticator(opts);
    const credentialId = await register(svc, authenticator, userId);
    return { authenticator, credentialId };
  }

  async function storedState(credentialId: string) {
    const c = await store.credentials.get("default", credentialId);
    return { counter: c?.counter, lastUsedAt: c?.lastUsedAt };
  }

  /** Begins a sign-in, lets `attack` answer it, and checks the honest answer still works after. */
  async function refusedWithoutConsuming(userId: string, authenticator: SoftAuthenticator, reason: Parameters<typeof expectRpcError>[2], overrides: Parameters<SoftAuthenticator["get"]>[2]) {
    const begin = await svc.connect.beginAuthentication({ userId });
    const forged = JSON.stringify(authenticator.get(begin.optionsJson, ORIGIN, overrides));
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: forged }), Code.Unauthenticated, reason);
    const honest = JSON.stringify(authenticator.get(begin.optionsJson, ORIGIN));
    await expect(svc.connect.finishAuthentication({ credentialJson: honest })).resolves.toMatchObject({ userId });
  }

  it("replay: a used assertion is refused", async () => {
    const { authenticator, credentialId } = await enrolled("replay");
    const json = await assertion(svc, authenticator, "replay");
    await svc.connect.finishAuthentication({ credentialJson: json });
    const before = await storedState(credentialId);
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: json }), Code.Unauthenticated, "CHALLENGE_INVALID");
    expect(await storedState(credentialId)).toEqual(before);
  });

  it("concurrent replay: of 12 simultaneous finishes with one assertion exactly one succeeds", async () => {
    const { authenticator } = await enrolled("concurrent");
    const json = await assertion(svc, authenticator, "concurrent");
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => svc.connect.finishAuthentication({ credentialJson: json })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      await expectRpcError(Promise.reject(r.reason), Code.Unauthenticated, "CHALLENGE_INVALID");
    }
  });

  it("concurrent replay of a registration stores the credential once", async () => {
    const authenticator = new SoftAuthenticator();
    const begin = await svc.connect.beginRegistration({ userId: "double-reg", userName: "d" });
    const json = JSON.stringify(authenticator.create(begin.optionsJson, ORIGIN));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => svc.connect.finishRegistration({ credentialJson: json })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const again = JSON.parse((await svc.connect.beginRegistration({ userId: "double-reg", userName: "d" })).optionsJson);
    expect(again.excludeCredentials).toHaveLength(1);
  });

  it("foreign origin: refused before the challenge is consumed", async () => {
    const { authenticator, credentialId } = await enrolled("phished");
    const before = await storedState(credentialId);
    await refusedWithoutConsuming("phished", authenticator, "ORIGIN_MISMATCH", { origin: "https://evil.example" });
    expect((await storedState(credentialId)).counter).toBe(before.counter! + 2);
  });

  it("foreign RP ID: refused before the challenge is consumed", async () => {
    const { authenticator } = await enrolled("foreign-rp");
    await refusedWithoutConsuming("foreign-rp", authenticator, "RP_ID_MISMATCH", { rpId: "evil.example" });
  });

  it("cross-origin iframe: refused", async () => {
    const { authenticator } = await enrolled("iframe");
    await refusedWithoutConsuming("iframe", authenticator, "CROSS_ORIGIN_REJECTED", { crossOrigin: true });
  });

  it("wrong ceremony type: a registration response cannot finish a sign-in", async () => {
    const { authenticator } = await enrolled("wrong-type");
    await refusedWithoutConsuming("wrong-type", authenticator, "CLIENT_DATA_TYPE_MISMATCH", { type: "webauthn.create" });
  });

  it("counter regression: a cloned authenticator is refused and the counter stays", async () => {
    const { authenticator, credentialId } = await enrolled("cloned");
    const clone = new SoftAuthenticator();
    authenticator.cloneInto(clone, credentialId);
    await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "cloned") });
    await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "cloned") });
    const before = await storedState(credentialId);
    expect(before.counter).toBe(2);
    await expectRpcError(
      svc.connect.finishAuthentication({ credentialJson: await assertion(svc, clone, "cloned") }),
      Code.Unauthenticated,
      "COUNTER_REGRESSION",
    );
    expect(await storedState(credentialId)).toEqual(before);
  });

  it("counter 0 → 0 is accepted for authenticators that never count", async () => {
    const { authenticator, credentialId } = await enrolled("zero", { counter: "zero" });
    for (let i = 0; i < 2; i++) {
      await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "zero") });
    }
    expect((await storedState(credentialId)).counter).toBe(0);
  });

  it("unknown challenge: refused", async () => {
    const { authenticator } = await enrolled("unknown-challenge");
    const json = await assertion(svc, authenticator, "unknown-challenge", { challenge: randomBytes(32).toString("base64url") });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: json }), Code.Unauthenticated, "CHALLENGE_INVALID");
  });

  it("expired challenge: refused by the condition, whatever TTL has not yet deleted", async () => {
    const { authenticator, credentialId } = await enrolled("expired");
    const json = await assertion(svc, authenticator, "expired");
    svc.clock.advance(301_000);
    try {
      await expectRpcError(svc.connect.finishAuthentication({ credentialJson: json }), Code.Unauthenticated, "CHALLENGE_EXPIRED");
    } finally {
      svc.clock.advance(-301_000);
    }
    expect((await storedState(credentialId)).counter).toBe(0);
  });

  it("another user's challenge: a ceremony begun for alice cannot be finished with bob's credential", async () => {
    await enrolled("alice");
    const bob = await enrolled("bob");
    const begin = await svc.connect.beginAuthentication({ userId: "alice" });
    const json = JSON.stringify(bob.authenticator.get(begin.optionsJson, ORIGIN, { credentialId: bob.credentialId }));
    const before = await storedState(bob.credentialId);
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: json }), Code.Unauthenticated, "USER_MISMATCH");
    expect(await storedState(bob.credentialId)).toEqual(before);
  });

  it("another user's credential: a user handle that is not the credential's owner is refused (YSA-2026-02)", async () => {
    const carol = await enrolled("carol");
    const dave = await enrolled("dave");
    const carolHandle = JSON.parse(await assertion(svc, carol.authenticator, "carol")).response.userHandle;
    const json = await assertion(svc, dave.authenticator, undefined, { userHandle: carolHandle });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: json }), Code.Unauthenticated, "USER_MISMATCH");
  });

  it("a discoverable sign-in without a user handle is refused", async () => {
    const erin = await enrolled("erin");
    const json = await assertion(svc, erin.authenticator, undefined, { userHandle: null });
    await expectRpcError(svc.connect.finishAuthentication({ credentialJson: json }), Code.Unauthenticated, "USER_MISMATCH");
  });

  it("unknown credential: refused", async () => {
    const { authenticator } = await enrolled("frank");
    const json = JSON.parse(await assertion(svc, authenticator, "frank"));
    const forged = { ...json, id: randomBytes(32).toString("base64url") };
    forged.rawId = forged.id;
    await expectRpcError(
      svc.connect.finishAuthentication({ credentialJson: JSON.stringify(forged) }),
      Code.Unauthenticated,
      "CREDENTIAL_UNKNOWN",
    );
  });

  it("tampered signature: refused", async () => {
    const { authenticator, credentialId } = await enrolled("grace");
    const json = JSON.parse(await assertion(svc, authenticator, "grace"));
    const signature = Buffer.from(json.response.signature, "base64url");
    signature[signature.length - 1]! ^= 0x01;
    json.response.signature = signature.toString("base64url");
    const before = await storedState(credentialId);
    await expectRpcError(
      svc.connect.finishAuthentication({ credentialJson: JSON.stringify(json) }),
      Code.Unauthenticated,
      "SIGNATURE_INVALID",
    );
    expect(await storedState(credentialId)).toEqual(before);
  });

  it("a credential id is unique across users, also under concurrent registrations (WebAuthn §7.1)", async () => {
    const { credentialId } = await enrolled("heidi");
    const stored = (await store.credentials.get("default", credentialId))!;
    /** Each user exists, so that only the credential id's uniqueness can refuse the write. */
    const ownerUpdate = async (userId: string, credentialId: string) => {
      const handle = await store.users.ensureHandle("default", userId, `handle-${userId}`, { userName: userId, displayName: userId }, Date.now());
      return store.users.addCredential("default", userId, handle, credentialId);
    };
    const takeovers = await Promise.allSettled(
      ["mallory", "trent", "oscar"].map(async (userId) => store.credentials.create({ ...stored, userId }, await ownerUpdate(userId, credentialId), [])),
    );
    for (const t of takeovers) expect(t).toMatchObject({ status: "rejected", reason: { reason: "CREDENTIAL_EXISTS" } });
    expect((await store.credentials.get("default", credentialId))?.userId).toBe("heidi");

    const fresh = { ...stored, credentialId: randomBytes(32).toString("base64url") };
    const racers = await Promise.allSettled(
      ["u1", "u2", "u3", "u4"].map(async (userId) => store.credentials.create({ ...fresh, userId }, await ownerUpdate(userId, fresh.credentialId), [])),
    );
    expect(racers.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("malformed JSON, malformed CBOR and oversized payloads are INVALID_ARGUMENT and consume nothing", async () => {
    const authenticator = new SoftAuthenticator();
    const begin = await svc.connect.beginRegistration({ userId: "ivan", userName: "ivan" });
    const honest = authenticator.create(begin.optionsJson, ORIGIN);

    await expectRpcError(svc.connect.finishRegistration({ credentialJson: "{not json" }), Code.InvalidArgument, "CREDENTIAL_MALFORMED");
    await expectRpcError(svc.connect.finishRegistration({ credentialJson: "" }), Code.InvalidArgument, "FIELD_INVALID");
    const badCbor = { ...honest, response: { ...honest.response, attestationObject: Buffer.from([0xa3, 0x63, 0x66, 0xff]).toString("base64url") } };
    await expectRpcError(
      svc.connect.finishRegistration({ credentialJson: JSON.stringify(badCbor) }),
      Code.InvalidArgument,
      "CREDENTIAL_MALFORMED",
    );
    const badClientData = { ...honest, response: { ...honest.response, clientDataJSON: Buffer.from("{]").toString("base64url") } };
    await expectRpcError(
      svc.connect.finishRegistration({ credentialJson: JSON.stringify(badClientData) }),
      Code.InvalidArgument,
      "CREDENTIAL_MALFORMED",
    );
    const oversized = { ...honest, clientExtensionResults: { pad: "x".repeat(MAX_CREDENTIAL_JSON_BYTES) } };
    await expectRpcError(
      svc.connect.finishRegistration({ credentialJson: JSON.stringify(oversized) }),
      Code.InvalidArgument,
      "PAYLOAD_TOO_LARGE",
    );
    await expectRpcError(
      svc.connect.beginRegistration({ userId: "u".repeat(129), userName: "x" }),
      Code.InvalidArgument,
      "FIELD_INVALID",
    );
    // None of that consumed the challenge: the honest response still registers.
    await expect(svc.connect.finishRegistration({ credentialJson: JSON.stringify(honest) })).resolves.toBeDefined();
  });

  it("an unknown tenant is INVALID_ARGUMENT", async () => {
    await expectRpcError(svc.connect.beginAuthentication({ tenant: "other" }), Code.InvalidArgument, "TENANT_UNKNOWN");
  });
});
