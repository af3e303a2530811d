/**
 * WebAuthn Signal API payloads (issue 16) through the real transports, gRPC (grpc-js, HTTP/2) and
 * Connect (JSON, HTTP/1.1), against DynamoDB Local: what each RPC tells the browser to do, and the
 * refusals that must never tell it to hide a passkey that still works.
 */
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerPolicySchema } from "../../src/callers/policy.js";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import {
  BrowserSignalSchema,
  DeleteUserRequestSchema,
  FinishAuthenticationRequestSchema,
  ListCredentialsRequestSchema,
  UpdateUserRequestSchema,
  type BrowserSignal,
  type DeleteUserResponse,
  type ListCredentialsResponse,
  type UpdateUserResponse,
} from "../../src/gen/authn/v1/auth_service_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { Decision, DenyReason } from "../../src/gen/authn/v1/step_up_pb.js";
import { MAX_TEXT_BYTES } from "../../src/field-limits.js";
import { tableNames } from "../../src/store/tables.js";
import { tenantKey } from "../../src/store/keys.js";
import type { TenantConfig } from "../../src/tenants/tenant-config.js";
import { assertion, expectRpcError } from "../support/ceremonies.js";
import { grpcErrorDetails, unary } from "../support/grpc-js-client.js";
import { HOSTILE_DISPLAY_TEXT } from "../support/hostile.js";
import { closeAll, ORIGIN, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/** A tenant on the same RP ID as the default one: the browser cannot tell their passkeys apart. */
const SAME_RP_ID: TenantConfig = { ...TEST_TENANT, id: "sibling" };

/** A signal as the browser would call it: the method and its parsed argument. */
function call(signal: BrowserSignal | undefined): { method: string; options: Record<string, unknown> } | undefined {
  return signal && { method: signal.method, options: JSON.parse(signal.optionsJson) };
}

describe("Signal API payloads", () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService(undefined, { tenants: [SAME_RP_ID] });
  });
  afterAll(() => closeAll(svc));

  /** Registers a passkey over Connect; returns its id and the user handle the browser was given. */
  async function enrol(authenticator: SoftAuthenticator, userId: string, tenant = "") {
    const begin = await svc.connect.beginRegistration({ tenant, userId, userName: `${userId}@example.com` });
    const userHandle: string = JSON.parse(begin.optionsJson).user.id;
    const finished = await svc.connect.finishRegistration({ tenant, credentialJson: JSON.stringify(authenticator.create(begin.optionsJson, ORIGIN)) });
    return { credentialId: finished.credential!.credentialId, userHandle, signal: finished.signal };
  }

  /** The user's record as the store keeps it. */
  async function userRecord(userId: string) {
    const out = await svc.dynamo.send(
      new GetItemCommand({ TableName: tableNames(svc.tablePrefix).users, Key: { pk: { S: tenantKey("default", userId) } }, ConsistentRead: true }),
    );
    return out.Item && { userName: out.Item.userName?.S, displayName: out.Item.displayName?.S, userHandle: out.Item.userHandle?.S };
  }

  /** FinishAuthentication's refusal over both transports' error details: the reason and the BrowserSignal details. */
  async function refusal(credentialJson: string): Promise<{ reason: string | undefined; signals: BrowserSignal[] }> {
    const err = await svc.connect.finishAuthentication({ credentialJson }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err, "the sign-in should have been refused").toBeInstanceOf(ConnectError);
    await expectRpcError(Promise.reject(err), Code.Unauthenticated);
    return { reason: err!.findDetails(ErrorInfoSchema)[0]?.reason, signals: err!.findDetails(BrowserSignalSchema) };
  }

  it("FinishRegistration returns signalAllAcceptedCredentials naming the user's usable passkeys, the new one included, under the user handle", async () => {
    const laptop = new SoftAuthenticator();
    const first = await enrol(laptop, "reg-user");
    expect(call(first.signal)).toEqual({
      method: "signalAllAcceptedCredentials",
      options: { rpId: "localhost", userId: first.userHandle, allAcceptedCredentialIds: [first.credentialId] },
    });
    // The user id is the random WebAuthn user handle, never the caller's id.
    expect(first.signal!.optionsJson).not.toContain("reg-user");
    const second = await enrol(new SoftAuthenticator(), "reg-user");
    expect(second.userHandle).toBe(first.userHandle);
    expect(call(second.signal)?.options.allAcceptedCredentialIds).toEqual(expect.arrayContaining([first.credentialId, second.credentialId]));
    expect(call(second.signal)?.options.allAcceptedCredentialIds).toHaveLength(2);
  });

  it("RevokeCredential and ListCredentials leave the revoked passkey out (gRPC and Connect); a user with none has no signal", async () => {
    const kept = await enrol(new SoftAuthenticator(), "revoker");
    const revoked = await enrol(new SoftAuthenticator(), "revoker");
    const answer = await svc.connect.revokeCredential({ userId: "revoker", credentialId: revoked.credentialId, reason: "lost" });
    const expected = { method: "signalAllAcceptedCredentials", options: { rpId: "localhost", userId: kept.userHandle, allAcceptedCredentialIds: [kept.credentialId] } };
    expect(call(answer.signal)).toEqual(expected);
    const listed = await svc.connect.listCredentials({ userId: "revoker" });
    expect(listed.credentials.map((c) => c.credentialId)).toEqual([kept.credentialId, revoked.credentialId]); // revoked ones stay listed
    expect(call(listed.signal)).toEqual(expected);
    const overGrpc = await unary<ListCredentialsResponse>(svc.grpc, "listCredentials", create(ListCredentialsRequestSchema, { userId: "revoker" }));
    expect(call(overGrpc.signal)).toEqual(expected);
    // Revoking it again changes nothing, and the signal still leaves it out.
    const again = await svc.connect.revokeCredential({ userId: "revoker", credentialId: revoked.credentialId, reason: "again" });
    expect(call(again.signal)).toEqual(expected);
    expect((await svc.connect.listCredentials({ userId: "nobody-here" })).signal).toBeUndefined();
  });

  it("ListCredentials of a user whose registration never finished signals an empty list, so an orphaned passkey is hidden", async () => {
    const begin = await svc.connect.beginRegistration({ userId: "unfinished", userName: "u" });
    const listed = await svc.connect.listCredentials({ userId: "unfinished" });
    expect(listed.credentials).toEqual([]);
    expect(call(listed.signal)).toEqual({
      method: "signalAllAcceptedCredentials",
      options: { rpId: "localhost", userId: JSON.parse(begin.optionsJson).user.id, allAcceptedCredentialIds: [] },
    });
  });

  it("DeleteUser returns signalAllAcceptedCredentials with an empty list under the erased user's handle; unset for an unknown user", async () => {
    const { userHandle } = await enrol(new SoftAuthenticator(), "leaver");
    const erased = await svc.connect.deleteUser({ userId: "leaver" });
    expect(erased.deletedCredentials).toBe(1);
    expect(call(erased.signal)).toEqual({ method: "signalAllAcceptedCredentials", options: { rpId: "localhost", userId: userHandle, allAcceptedCredentialIds: [] } });
    const unknown = await svc.connect.deleteUser({ userId: "leaver" });
    expect(unknown.deletedCredentials).toBe(0);
    expect(unknown.signal).toBeUndefined();

    const other = await enrol(new SoftAuthenticator(), "leaver-grpc");
    const overGrpc = await unary<DeleteUserResponse>(svc.grpc, "deleteUser", create(DeleteUserRequestSchema, { userId: "leaver-grpc" }));
    expect(call(overGrpc.signal)).toEqual({ method: "signalAllAcceptedCredentials", options: { rpId: "localhost", userId: other.userHandle, allAcceptedCredentialIds: [] } });
  });

  it("costs: FinishRegistration 3 DynamoDB requests (one Query more for its signal), a sign-in still 3, RevokeCredential one Query more", async () => {
    const sent: string[] = [];
    const count = async (run: () => Promise<unknown>) => {
      sent.length = 0;
      await run();
      return [...sent];
    };
    svc.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? "?");
        return next(args);
      },
      { step: "initialize", name: "countSignalRequests" },
    );
    try {
      const authenticator = new SoftAuthenticator();
      await enrol(authenticator, "counted");
      const begin = await svc.connect.beginRegistration({ userId: "counted", userName: "c" });
      const second = JSON.stringify(new SoftAuthenticator().create(begin.optionsJson, ORIGIN));
      expect(await count(() => svc.connect.finishRegistration({ credentialJson: second }))).toEqual(["PutItemCommand", "QueryCommand", "TransactWriteItemsCommand"]);
      await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "counted") }); // warms the credential cache
      const signIn = await assertion(svc, authenticator, "counted");
      expect(await count(() => svc.connect.finishAuthentication({ credentialJson: signIn }))).toEqual(["PutItemCommand", "UpdateItemCommand", "PutItemCommand"]);
      const credentialId = authenticator.credentialIds()[0]!;
      // The signal's Query comes first; the other is the credential's live sessions (README, requests per RPC).
      const revoke = await count(() => svc.connect.revokeCredential({ userId: "counted", credentialId, reason: "r" }));
      expect([revoke[0], revoke.filter((name) => name === "QueryCommand").length]).toEqual(["QueryCommand", 2]);
      expect(await count(() => svc.connect.updateUser({ userId: "counted", userName: "n" }))).toEqual(["UpdateItemCommand", "PutItemCommand"]);
    } finally {
      svc.dynamo.middlewareStack.remove("countSignalRequests");
    }
  });

  describe("FinishAuthentication refused as CREDENTIAL_UNKNOWN", () => {
    /** An honest assertion of `authenticator` whose credential id is replaced by `id`. */
    async function withId(authenticator: SoftAuthenticator, userId: string | undefined, id: string): Promise<string> {
      const json = JSON.parse(await assertion(svc, authenticator, userId));
      return JSON.stringify({ ...json, id, rawId: id });
    }

    it("carries signalUnknownCredential for an id the tenant never registered (Connect and gRPC)", async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(authenticator, "ghost-owner");
      const id = randomBytes(32).toString("base64url");
      const refused = await refusal(await withId(authenticator, "ghost-owner", id));
      expect(refused.reason).toBe("CREDENTIAL_UNKNOWN");
      expect(refused.signals.map(call)).toEqual([{ method: "signalUnknownCredential", options: { rpId: "localhost", credentialId: id } }]);

      const err = (await unary(svc.grpc, "finishAuthentication", create(FinishAuthenticationRequestSchema, { credentialJson: await withId(authenticator, "ghost-owner", id) })).catch(
        (e: unknown) => e,
      )) as ServiceError;
      expect(err.code).toBe(16); // UNAUTHENTICATED
      expect(grpcErrorDetails(err, BrowserSignalSchema).map(call)).toEqual([{ method: "signalUnknownCredential", options: { rpId: "localhost", credentialId: id } }]);
    });

    it("carries it for a passkey whose user was erased", async () => {
      const authenticator = new SoftAuthenticator();
      const { credentialId } = await enrol(authenticator, "erased-user");
      await svc.connect.deleteUser({ userId: "erased-user" });
      const refused = await refusal(await assertion(svc, authenticator, undefined, { credentialId }));
      expect(refused).toEqual({ reason: "CREDENTIAL_UNKNOWN", signals: [expect.objectContaining({ method: "signalUnknownCredential" })] });
      expect(JSON.parse(refused.signals[0]!.optionsJson)).toEqual({ rpId: "localhost", credentialId });
    });

    it("never for a revoked passkey, another user's, or a bad signature: the credential exists", async () => {
      const alice = new SoftAuthenticator();
      const a = await enrol(alice, "alice-signal");
      const bob = new SoftAuthenticator();
      const b = await enrol(bob, "bob-signal");

      const forAlice = await svc.connect.beginAuthentication({ userId: "alice-signal" });
      const bobsAnswer = JSON.stringify(bob.get(forAlice.optionsJson, ORIGIN, { credentialId: b.credentialId }));
      expect(await refusal(bobsAnswer)).toEqual({ reason: "USER_MISMATCH", signals: [] });

      const tampered = JSON.parse(await assertion(svc, alice, "alice-signal"));
      const signature = Buffer.from(tampered.response.signature, "base64url");
      signature[signature.length - 1]! ^= 0x01;
      tampered.response.signature = signature.toString("base64url");
      expect(await refusal(JSON.stringify(tampered))).toEqual({ reason: "SIGNATURE_INVALID", signals: [] });

      await svc.connect.revokeCredential({ userId: "alice-signal", credentialId: a.credentialId, reason: "stolen" });
      // Its list no longer offers it (decoys stand in); the authenticator answers with it anyway.
      expect(await refusal(await assertion(svc, alice, "alice-signal", { credentialId: a.credentialId }))).toEqual({ reason: "CREDENTIAL_REVOKED", signals: [] });
    });

    it("never when another tenant of the same RP ID has the credential (the browser would hide a passkey that works there)", async () => {
      const authenticator = new SoftAuthenticator();
      const { credentialId } = await enrol(authenticator, "shared-rp", SAME_RP_ID.id);
      // The default tenant has no such credential, but its sibling on the same RP ID does.
      const refused = await refusal(await assertion(svc, authenticator, undefined, { credentialId }));
      expect(refused).toEqual({ reason: "CREDENTIAL_UNKNOWN", signals: [] });
    });

    it("never for another spelling of an existing passkey's id (padding, non-zero trailing bits): the browser decodes it to that passkey", async () => {
      const authenticator = new SoftAuthenticator();
      const { credentialId } = await enrol(authenticator, "spelled-twice");
      // The bits a base64url string carries past its last whole byte: a decoder drops them, so
      // setting one spells the same bytes differently (a 32-byte id has 2, a 16-byte one 4).
      expect((credentialId.length * 6) % 8).toBeGreaterThan(0);
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      const trailing = credentialId.slice(0, -1) + alphabet[alphabet.indexOf(credentialId.at(-1)!) | 1]!;
      expect(Buffer.from(trailing, "base64url").equals(Buffer.from(credentialId, "base64url"))).toBe(true);
      for (const spelling of [trailing, `${credentialId}=`, `${credentialId}==`]) {
        const credentialJson = await withId(authenticator, "spelled-twice", spelling);
        const err = ConnectError.from(await svc.connect.finishAuthentication({ credentialJson }).catch((e: unknown) => e));
        const { code, signals } = { code: err.code, signals: err.findDetails(BrowserSignalSchema).map(call) };
        expect({ code, reason: err.findDetails(ErrorInfoSchema)[0]?.reason, signals }, spelling).toEqual({ code: Code.InvalidArgument, reason: "CREDENTIAL_MALFORMED", signals: [] });
      }
    });

    it("the step-up path answers an unknown credential with DENY and no signal", async () => {
      const authenticator = new SoftAuthenticator();
      await enrol(authenticator, "stepper");
      const { sessionToken } = await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "stepper") });
      const operation = { name: "payments.transfer", resource: "accounts/1", payloadDigest: new Uint8Array(32), displayText: "" };
      const requirement = { requireUserVerification: true, maxAge: { seconds: 0n } };
      const needed = await svc.connect.verifyOperation({ sessionToken, operation, requirement });
      expect(needed.details.case).toBe("stepUpRequired");
      const optionsJson = needed.details.case === "stepUpRequired" ? needed.details.value.optionsJson : "";
      const id = randomBytes(32).toString("base64url");
      const credentialJson = JSON.stringify({ ...authenticator.get(optionsJson, ORIGIN), id, rawId: id });
      const verdict = await svc.connect.verifyOperation({ sessionToken, operation, requirement, evidence: { case: "credentialJson", value: credentialJson } });
      expect([Decision[verdict.decision], verdict.details.case === "denied" ? DenyReason[verdict.details.value.reason] : undefined]).toEqual(["DENY", "EVIDENCE_INVALID"]);
      expect(JSON.stringify(verdict, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain("signalUnknownCredential");
    });
  });

  describe("UpdateUser", () => {
    it("BeginRegistration records the names it is given, display_name defaulting to user_name", async () => {
      await svc.connect.beginRegistration({ userId: "named", userName: "ada@example.com", displayName: "Ada" });
      expect(await userRecord("named")).toMatchObject({ userName: "ada@example.com", displayName: "Ada" });
      await svc.connect.beginRegistration({ userId: "named", userName: "ada.l@example.com" });
      expect(await userRecord("named")).toMatchObject({ userName: "ada.l@example.com", displayName: "ada.l@example.com" });
    });

    it("changes the names (Connect and gRPC), returns signalCurrentUserDetails under the user handle, and is audited", async () => {
      const { userHandle } = await enrol(new SoftAuthenticator(), "renamer");
      const updated = await svc.connect.updateUser({ userId: "renamer", userName: "grace@example.com", displayName: "Grace Hopper" });
      expect(updated).toMatchObject({ userId: "renamer", userName: "grace@example.com", displayName: "Grace Hopper" });
      expect(call(updated.signal)).toEqual({
        method: "signalCurrentUserDetails",
        options: { rpId: "localhost", userId: userHandle, name: "grace@example.com", displayName: "Grace Hopper" },
      });
      expect(await userRecord("renamer")).toEqual({ userName: "grace@example.com", displayName: "Grace Hopper", userHandle });

      const overGrpc = await unary<UpdateUserResponse>(svc.grpc, "updateUser", create(UpdateUserRequestSchema, { userId: "renamer", userName: "gh@example.com" }));
      expect(overGrpc).toMatchObject({ userName: "gh@example.com", displayName: "gh@example.com" });
      expect(call(overGrpc.signal)?.options).toEqual({ rpId: "localhost", userId: userHandle, name: "gh@example.com", displayName: "gh@example.com" });

      const { events } = await svc.connect.listAuditEvents({ userId: "renamer" });
      const audited = events.filter((e) => e.type === AuditEventType.USER_UPDATED);
      expect(audited.map((e) => [e.outcome, e.tenant, e.details])).toEqual([
        [AuditOutcome.SUCCESS, "default", { user_name: "gh@example.com", display_name: "gh@example.com" }],
        [AuditOutcome.SUCCESS, "default", { user_name: "grace@example.com", display_name: "Grace Hopper" }],
      ]);
    });

    it("a user who never began a registration, or was erased, is NOT_FOUND (USER_NOT_FOUND) and is not created", async () => {
      await expectRpcError(svc.connect.updateUser({ userId: "never-seen", userName: "x" }), Code.NotFound, "USER_NOT_FOUND");
      expect(await userRecord("never-seen")).toBeUndefined();
      await enrol(new SoftAuthenticator(), "gone");
      await svc.connect.deleteUser({ userId: "gone" });
      await expectRpcError(svc.connect.updateUser({ userId: "gone", userName: "back" }), Code.NotFound, "USER_NOT_FOUND");
      expect(await userRecord("gone")).toBeUndefined();
    });

    it("racing DeleteUser never brings an erased user back", async () => {
      for (let i = 0; i < 8; i++) {
        const userId = `race-${i}`;
        await enrol(new SoftAuthenticator(), userId);
        const [, updated] = await Promise.allSettled([svc.connect.deleteUser({ userId }), svc.connect.updateUser({ userId, userName: "late" })]);
        if (updated.status === "rejected") expect(ConnectError.from(updated.reason).findDetails(ErrorInfoSchema)[0]?.reason).toBe("USER_NOT_FOUND");
        expect(await userRecord(userId), userId).toBeUndefined();
      }
    });

    it("refuses bad names as FIELD_INVALID, changing nothing", async () => {
      await enrol(new SoftAuthenticator(), "strict-names");
      const before = await userRecord("strict-names");
      const refusals: [string, Parameters<typeof svc.connect.updateUser>[0]][] = [
        ["user_name", { userId: "strict-names", userName: "" }],
        ["user_name", { userId: "strict-names", userName: "a".repeat(MAX_TEXT_BYTES + 1) }],
        ["display_name", { userId: "strict-names", userName: "a", displayName: "é".repeat(MAX_TEXT_BYTES / 2 + 1) }],
        ["user_id", { userId: "", userName: "a" }],
        ...Object.values(HOSTILE_DISPLAY_TEXT).flatMap((text): [string, Parameters<typeof svc.connect.updateUser>[0]][] => [
          ["user_name", { userId: "strict-names", userName: text }],
          ["display_name", { userId: "strict-names", userName: "a", displayName: text }],
        ]),
      ];
      for (const [field, request] of refusals) {
        const err = await expectRpcError(svc.connect.updateUser(request), Code.InvalidArgument, "FIELD_INVALID");
        expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe(field);
      }
      expect(await userRecord("strict-names")).toEqual(before);
      await expectRpcError(svc.connect.updateUser({ tenant: "nope", userId: "strict-names", userName: "a" }), Code.InvalidArgument, "TENANT_UNKNOWN");
    });
  });
});

describe("UpdateUser under a caller policy", () => {
  const ACCOUNTS = "spiffe://cluster.local/ns/accounts/sa/account-service";
  const SIDECAR = 'By=spiffe://cluster.local/ns/authn/sa/dynauthn;Hash=0f;Subject="";URI=';
  const as = (identity: string) => ({ headers: { "x-forwarded-client-cert": `${SIDECAR}${identity}` } });
  let svc: TestService;

  beforeAll(async () => {
    const callers = callerPolicySchema.parse({
      callerIdentity: "xfcc",
      allowAnonymousCallers: true,
      anonymous: { methods: ["*Authentication"], tenants: ["*"] },
      rules: [{ identity: ACCOUNTS, methods: ["*"], tenants: ["*"] }],
    });
    svc = await startTestService(undefined, { callers });
  });
  afterAll(() => closeAll(svc));

  it("is never anonymous: refused without an identity, even where anonymous calls are allowed; a policy cannot open it to them", async () => {
    await svc.connect.beginRegistration({ userId: "managed", userName: "m" }, as(ACCOUNTS));
    await expectRpcError(svc.connect.updateUser({ userId: "managed", userName: "anon" }), Code.PermissionDenied, "CALLER_NOT_ALLOWED");
    expect((await svc.connect.updateUser({ userId: "managed", userName: "ok" }, as(ACCOUNTS))).userName).toBe("ok");
    const opened = callerPolicySchema.safeParse({ allowAnonymousCallers: true, anonymous: { methods: ["UpdateUser"], tenants: ["*"] } });
    expect(opened.success).toBe(false);
  });
});
