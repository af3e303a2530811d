import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Authorization,
  CheckRequestSchema,
  type CheckResponse,
} from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";
import { grpcJsClient, unary } from "../support/grpc-js-client.js";
import { ORIGIN, startTestService, type TestService } from "../support/service.js";
import { signedInUser, type SignedInUser } from "../support/step-up.js";

const TRANSFER = { operation: "payments.transfer", max_age: "120", require_uv: "true", acr_values: "phr phrh" };
const SINGLE_USE = { operation: "payments.transfer", single_use: "true" };

interface Call {
  readonly token?: string;
  readonly evidence?: string;
  readonly ext: Record<string, string>;
  readonly body?: string;
  /** Send the headers as Envoy does with encode_raw_headers: true. */
  readonly rawHeaders?: boolean;
}

/** What Envoy would do with the answer, in plain terms. */
interface Outcome {
  readonly grpcCode: number;
  readonly httpStatus: number | undefined;
  readonly headers: Record<string, string>;
  readonly removed: string[];
  readonly toClient: Record<string, string>;
  readonly body: Record<string, unknown>;
}

function outcome(res: CheckResponse): Outcome {
  const pairs = (list: { header?: { key: string; value: string } }[]) => Object.fromEntries(list.map((h) => [h.header!.key, h.header!.value]));
  const http = res.httpResponse;
  return {
    grpcCode: res.status?.code ?? -1,
    httpStatus: http.case === "deniedResponse" ? http.value.status?.code : undefined,
    headers: pairs(http.value?.headers ?? []),
    removed: http.case === "okResponse" ? http.value.headersToRemove : [],
    toClient: http.case === "okResponse" ? pairs(http.value.responseHeadersToAdd) : {},
    body: http.case === "deniedResponse" ? JSON.parse(http.value.body) : {},
  };
}

describe("Envoy ext_authz: envoy.service.auth.v3.Authorization/Check over grpc-js", () => {
  let svc: TestService;
  let client: grpc.Client;
  let alice: SignedInUser;

  beforeAll(async () => {
    svc = await startTestService();
    client = grpcJsClient(Authorization, svc.address);
    alice = await signedInUser(svc, "alice");
  });
  afterAll(async () => {
    client?.close();
    await svc?.close();
  });

  const check = async (call: Call): Promise<Outcome> => {
    const headers: Record<string, string> = { "user-agent": "test" };
    if (call.token) headers.authorization = `Bearer ${call.token}`;
    if (call.evidence) headers["x-dynauthn-step-up"] = call.evidence;
    const http = call.rawHeaders
      ? { headerMap: { headers: Object.entries(headers).map(([key, v]) => ({ key, rawValue: Buffer.from(v) })) } }
      : { headers };
    const req = create(CheckRequestSchema, {
      attributes: {
        contextExtensions: call.ext,
        request: { http: { method: "POST", path: "/v1/transfers", host: "api.example.com", body: call.body ?? '{"amount":500}', ...http } },
      },
    });
    return outcome(await unary<CheckResponse>(client, "check", req));
  };

  /** The browser's part: answer the 401's options with the passkey; the header value to retry with. */
  const stepUp = (user: SignedInUser, denied: Outcome, overrides = {}): string => {
    expect(denied.body.error).toBe("insufficient_user_authentication");
    return Buffer.from(JSON.stringify(user.authenticator.get(denied.body.options as object, ORIGIN, overrides))).toString("base64url");
  };

  it("401 without a token; OK within max_age; 401 step-up after it; OK with the assertion; 403 on its replay; OK with the grant", async () => {
    expect(await check({ ext: TRANSFER })).toMatchObject({ grpcCode: grpc.status.UNAUTHENTICATED, httpStatus: 401, headers: { "www-authenticate": "Bearer" } });

    const ok = await check({ token: alice.sessionToken, ext: TRANSFER });
    expect(ok.grpcCode).toBe(grpc.status.OK);
    expect(ok.headers).toMatchObject({ "x-dynauthn-subject": "alice", "x-dynauthn-acr": "phrh", "x-dynauthn-amr": "hwk user mfa" });
    expect(Number(ok.headers["x-dynauthn-auth-time"])).toBe(decodeJwt(alice.sessionToken).auth_time);
    expect(ok.removed).toEqual(["authorization", "x-dynauthn-step-up"]);
    expect(decodeJwt(ok.headers["x-dynauthn-step-up-grant"]!)).toMatchObject({ sub: "alice", once: false });

    svc.clock.advance(121_000);
    const challenge = await check({ token: alice.sessionToken, ext: TRANSFER });
    expect(challenge).toMatchObject({ grpcCode: grpc.status.UNAUTHENTICATED, httpStatus: 401 });
    expect(challenge.headers["www-authenticate"]).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A passkey assertion for this operation is required", acr_values="phr phrh", max_age="120"',
    );
    expect(challenge.body).toMatchObject({ acr_values: "phr phrh", max_age: 120, evidence_header: "x-dynauthn-step-up" });
    expect(challenge.body.options).toMatchObject({ rpId: "localhost", userVerification: "required" });

    const evidence = stepUp(alice, challenge);
    const stepped = await check({ token: alice.sessionToken, evidence, ext: TRANSFER });
    expect(stepped.grpcCode).toBe(grpc.status.OK);
    expect(stepped.headers["x-dynauthn-subject"]).toBe("alice");
    const grant = stepped.toClient["x-dynauthn-step-up-grant"]!; // reusable route: the client keeps it
    expect(grant).toBe(stepped.headers["x-dynauthn-step-up-grant"]);

    expect(await check({ token: alice.sessionToken, evidence, ext: TRANSFER })).toMatchObject({
      grpcCode: grpc.status.PERMISSION_DENIED,
      httpStatus: 403,
      body: { error: "access_denied", reason: "REPLAYED" },
    });
    expect((await check({ token: alice.sessionToken, evidence: grant, ext: TRANSFER, rawHeaders: true })).grpcCode).toBe(grpc.status.OK);
  });

  it("a single-use route: the token alone never passes; the assertion passes once; its grant never again", async () => {
    const challenge = await check({ token: alice.sessionToken, ext: SINGLE_USE });
    expect(challenge.httpStatus).toBe(401);
    const evidence = stepUp(alice, challenge);
    const ok = await check({ token: alice.sessionToken, evidence, ext: SINGLE_USE });
    expect(ok.grpcCode).toBe(grpc.status.OK);
    expect(ok.toClient).toEqual({});
    expect((await check({ token: alice.sessionToken, evidence, ext: SINGLE_USE })).body).toEqual({ error: "access_denied", reason: "REPLAYED" });
    const upstreamGrant = ok.headers["x-dynauthn-step-up-grant"]!;
    expect((await check({ token: alice.sessionToken, evidence: upstreamGrant, ext: SINGLE_USE })).body.reason).toBe("REPLAYED");
  });

  it("403 for another request body (operation) and for another user's token; the challenge survives both", async () => {
    const bob = await signedInUser(svc, "bob");
    const evidence = stepUp(alice, await check({ token: alice.sessionToken, ext: SINGLE_USE, body: '{"amount":500}' }));
    expect((await check({ token: alice.sessionToken, evidence, ext: SINGLE_USE, body: '{"amount":50000}' })).body).toEqual({
      error: "access_denied",
      reason: "OPERATION_MISMATCH",
    });
    expect((await check({ token: bob.sessionToken, evidence, ext: SINGLE_USE })).body).toEqual({
      error: "access_denied",
      reason: "SUBJECT_MISMATCH",
    });
    expect((await check({ token: alice.sessionToken, evidence, ext: SINGLE_USE })).grpcCode).toBe(grpc.status.OK);
  });

  it("403 for a grant presented with another session of the same user, and after its credential's revocation", async () => {
    const first = await signedInUser(svc, "dora");
    const second = await signedInUser(svc, "dora");
    const granted = await check({ token: first.sessionToken, ext: TRANSFER });
    const grant = granted.headers["x-dynauthn-step-up-grant"]!;
    expect((await check({ token: first.sessionToken, evidence: grant, ext: TRANSFER })).grpcCode).toBe(grpc.status.OK);
    expect((await check({ token: second.sessionToken, evidence: grant, ext: TRANSFER })).body).toEqual({
      error: "access_denied",
      reason: "SUBJECT_MISMATCH",
    });
    await svc.connect.revokeCredential({ userId: "dora", credentialId: first.credentialId });
    expect(await check({ token: first.sessionToken, evidence: grant, ext: TRANSFER })).toMatchObject({ grpcCode: grpc.status.UNAUTHENTICATED, httpStatus: 401 });
    expect((await check({ token: second.sessionToken, evidence: grant, ext: TRANSFER })).body.reason).toBe("SUBJECT_MISMATCH");
  });

  it("401 invalid_token for a token whose signing key left the ring; INVALID_ARGUMENT for a bad route setting", async () => {
    const carol = await signedInUser(svc, "carol");
    svc.app.keys.replace([await generateSigningKey("ES256", svc.clock.read())]);
    try {
      expect(await check({ token: carol.sessionToken, ext: { operation: "documents.read" } })).toMatchObject({
        grpcCode: grpc.status.UNAUTHENTICATED,
        httpStatus: 401,
        headers: { "www-authenticate": 'Bearer error="invalid_token"' },
        body: { error: "invalid_token", reason: "TOKEN_INVALID" },
      });
    } finally {
      svc.app.keys.replace([svc.signingKey]);
    }
    await expect(check({ token: carol.sessionToken, ext: { max_age: "five minutes" } })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^context_extensions\.max_age/),
    });
    // A misspelt setting would silently drop its requirement: refused instead.
    await expect(check({ token: carol.sessionToken, ext: { operation: "payments.transfer", require_UV: "true" } })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^context_extensions\.require_UV/),
    });
  });
});
