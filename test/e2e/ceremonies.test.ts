import { create } from "@bufbuild/protobuf";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BeginAuthenticationRequestSchema,
  BeginRegistrationRequestSchema,
  FinishAuthenticationRequestSchema,
  FinishRegistrationRequestSchema,
  UserVerificationRequirement,
  type BeginAuthenticationResponse,
  type BeginRegistrationResponse,
  type FinishAuthenticationResponse,
  type FinishRegistrationResponse,
} from "../../src/gen/authn/v1/auth_service_pb.js";
import { parseSessionId } from "../../src/audit/session-id.js";
import { assertion, register } from "../support/ceremonies.js";
import { unary } from "../support/grpc-js-client.js";
import { ORIGIN, startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

describe("passkey ceremonies end to end", () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc?.close();
  });

  it("registers and signs in over gRPC (grpc-js client, HTTP/2)", async () => {
    const authenticator = new SoftAuthenticator();
    const begin = await unary<BeginRegistrationResponse>(
      svc.grpc,
      "beginRegistration",
      create(BeginRegistrationRequestSchema, { userId: "grpc-user", userName: "grpc@example.com" }),
    );
    const options = JSON.parse(begin.optionsJson);
    // The WebAuthn user handle is random, never the caller's user id.
    expect(Buffer.from(options.user.id, "base64url").toString()).not.toContain("grpc-user");
    expect(options.rp).toEqual({ id: "localhost", name: "dynauthn test" });
    expect(options.pubKeyCredParams.map((p: { alg: number }) => p.alg)).toEqual(
      expect.arrayContaining([-7, -8, -257]),
    );

    const created = authenticator.create(begin.optionsJson, ORIGIN);
    const finished = await unary<FinishRegistrationResponse>(
      svc.grpc,
      "finishRegistration",
      create(FinishRegistrationRequestSchema, { credentialJson: JSON.stringify(created), credentialName: "laptop" }),
    );
    expect(finished.credential).toMatchObject({
      credentialId: created.id,
      userId: "grpc-user",
      name: "laptop",
      attestationFormat: "none",
      transports: ["internal"],
    });

    const beginAuth = await unary<BeginAuthenticationResponse>(
      svc.grpc,
      "beginAuthentication",
      create(BeginAuthenticationRequestSchema, { userId: "grpc-user" }),
    );
    expect(JSON.parse(beginAuth.optionsJson).allowCredentials).toEqual([
      { id: created.id, type: "public-key", transports: ["internal"] },
    ]);
    const signedIn = await unary<FinishAuthenticationResponse>(
      svc.grpc,
      "finishAuthentication",
      create(FinishAuthenticationRequestSchema, {
        credentialJson: JSON.stringify(authenticator.get(beginAuth.optionsJson, ORIGIN)),
      }),
    );
    expect(signedIn.userId).toBe("grpc-user");
    expect(signedIn.credentialId).toBe(created.id);
    expect(signedIn.userVerified).toBe(true);
  });

  it("registers and signs in over Connect JSON (HTTP/1.1) and issues a verifiable ES256 session token", async () => {
    const authenticator = new SoftAuthenticator({ alg: -8 });
    const credentialId = await register(svc, authenticator, "connect-user");
    const done = await svc.connect.finishAuthentication({
      credentialJson: await assertion(svc, authenticator, "connect-user"),
      client: { ip: "203.0.113.7", userAgent: "test" },
    });
    expect(done.userId).toBe("connect-user");

    const header = decodeProtectedHeader(done.sessionToken);
    expect(header).toMatchObject({ alg: "ES256", kid: svc.signingKey.kid, typ: "JWT" });
    const { payload } = await jwtVerify(done.sessionToken, svc.signingKey.publicKey, { issuer: "dynauthn" });
    expect(payload).toMatchObject({
      sub: "connect-user",
      cid: credentialId,
      amr: ["hwk", "user", "mfa"],
      acr: "phrh",
      tid: "default",
    });
    // The session id names its record: the user and the sign-in instant.
    const session = parseSessionId(String(payload.jti));
    expect(session?.userId).toBe("connect-user");
    expect(Math.floor(session!.time / 1000)).toBe(payload.auth_time);
    expect(payload.auth_time).toBe(payload.iat);
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(Number(done.expiresAt!.seconds)).toBe(payload.exp);
  });

  it("signs in without a user id (discoverable, usernameless) by the returned user handle", async () => {
    const authenticator = new SoftAuthenticator({ backupEligible: true, userVerification: false });
    await register(svc, authenticator, "usernameless");
    const begin = await svc.connect.beginAuthentication({});
    expect(JSON.parse(begin.optionsJson).allowCredentials).toEqual([]);
    const done = await svc.connect.finishAuthentication({
      credentialJson: JSON.stringify(authenticator.get(begin.optionsJson, ORIGIN)),
    });
    expect(done.userId).toBe("usernameless");
    expect(decodeJwt(done.sessionToken)).toMatchObject({ amr: ["swk", "user"], acr: "phr" });
  });

  it("lists existing credentials in excludeCredentials and keeps one user handle per user", async () => {
    const first = new SoftAuthenticator({ alg: -257 });
    const id = await register(svc, first, "two-keys");
    const begin = await svc.connect.beginRegistration({ userId: "two-keys", userName: "two@example.com" });
    const options = JSON.parse(begin.optionsJson);
    expect(options.excludeCredentials).toEqual([{ id, type: "public-key", transports: ["internal"] }]);
    const second = new SoftAuthenticator({ attestation: "packed-self" });
    const credential = second.create(begin.optionsJson, ORIGIN);
    const done = await svc.connect.finishRegistration({ credentialJson: JSON.stringify(credential) });
    expect(done.credential?.attestationFormat).toBe("packed");
    const again = JSON.parse((await svc.connect.beginRegistration({ userId: "two-keys", userName: "x" })).optionsJson);
    expect(again.user.id).toBe(options.user.id);
    expect(again.excludeCredentials.map((c: { id: string }) => c.id).sort()).toEqual([id, credential.id].sort());
  });

  it("enforces required user verification at finish, not only in the options", async () => {
    const authenticator = new SoftAuthenticator({ userVerification: false });
    await register(svc, authenticator, "no-uv");
    const begin = await svc.connect.beginAuthentication({
      userId: "no-uv",
      userVerification: UserVerificationRequirement.REQUIRED,
    });
    expect(JSON.parse(begin.optionsJson).userVerification).toBe("required");
    await expect(
      svc.connect.finishAuthentication({ credentialJson: JSON.stringify(authenticator.get(begin.optionsJson, ORIGIN)) }),
    ).rejects.toMatchObject({ rawMessage: expect.stringMatching(/user verification/) });
  });

  it("answers an unknown user like a known one (no user enumeration)", async () => {
    const shapeOf = (json: string) => {
      const o = JSON.parse(json);
      return {
        keys: Object.keys(o).sort(),
        allow: [...new Set(o.allowCredentials.map((c: object) => Object.keys(c).sort().join(",")))],
      };
    };
    const known = new SoftAuthenticator();
    await register(svc, known, "known-user");
    const a = await svc.connect.beginAuthentication({ userId: "known-user" });
    const b = await svc.connect.beginAuthentication({ userId: "nobody-by-this-name" });
    const c = await svc.connect.beginAuthentication({ userId: "nobody-by-this-name" });
    expect(shapeOf(b.optionsJson)).toEqual(shapeOf(a.optionsJson));
    // Asking twice gives the same decoy, so repetition reveals nothing either.
    expect(JSON.parse(c.optionsJson).allowCredentials).toEqual(JSON.parse(b.optionsJson).allowCredentials);
  });

  it("unknown users' decoys have no one fixed shape: counts, id lengths and transports vary like real lists (identity break 3)", async () => {
    const lists = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const begin = await svc.connect.beginAuthentication({ userId: `no-such-user-${i}` });
        return JSON.parse(begin.optionsJson).allowCredentials as { id: string; transports: string[] }[];
      }),
    );
    const counts = new Set(lists.map((l) => l.length));
    const entries = lists.flat();
    const lengths = new Set(entries.map((c) => Buffer.from(c.id, "base64url").length));
    const transports = new Set(entries.map((c) => c.transports.join("+")));
    // Before: always one 16-byte id with ["internal","hybrid"] (an order no browser reports).
    expect(counts.size).toBeGreaterThanOrEqual(2);
    expect(lengths.size).toBeGreaterThanOrEqual(3);
    expect(transports.size).toBeGreaterThanOrEqual(2);
    for (const c of entries) expect([...c.transports].sort()).toEqual(c.transports);
    for (const length of lengths) expect([16, 20, 32, 48, 64]).toContain(length);
  });

});
