import { randomBytes } from "node:crypto";
import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import {
  AuthService,
  UserVerificationRequirement,
  type BeginAuthenticationRequestSchema,
  type BeginAuthenticationResponse,
  type BeginRegistrationRequestSchema,
  type BeginRegistrationResponse,
  type Credential,
  type FinishAuthenticationResponse,
  type FinishRegistrationResponse,
} from "../../src/gen/authn/v1/auth_service_pb.js";
import { createLogger } from "../../src/logger.js";
import { tableNames } from "../../src/store/tables.js";
import { expectRpcError } from "../support/ceremonies.js";
import { grpcCall } from "../support/grpc-js-client.js";
import { ORIGIN, startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator, type CeremonyOverrides } from "../support/soft-authenticator.js";

type Init<T extends DescMessage> = MessageInitShape<T>;

/** The four ceremony RPCs, over one transport. */
interface Transport {
  beginRegistration(req: Init<typeof BeginRegistrationRequestSchema>): Promise<BeginRegistrationResponse>;
  finishRegistration(credentialJson: string): Promise<FinishRegistrationResponse>;
  beginAuthentication(req: Init<typeof BeginAuthenticationRequestSchema>): Promise<BeginAuthenticationResponse>;
  finishAuthentication(credentialJson: string): Promise<FinishAuthenticationResponse>;
}

function connectTransport(svc: TestService): Transport {
  return {
    beginRegistration: (req) => svc.connect.beginRegistration(req),
    finishRegistration: (credentialJson) => svc.connect.finishRegistration({ credentialJson }),
    beginAuthentication: (req) => svc.connect.beginAuthentication(req),
    finishAuthentication: (credentialJson) => svc.connect.finishAuthentication({ credentialJson }),
  };
}

function grpcTransport(svc: TestService): Transport {
  const m = AuthService.method;
  return {
    beginRegistration: (req) => grpcCall(svc, "beginRegistration", create(m.beginRegistration.input, req)),
    finishRegistration: (credentialJson) => grpcCall(svc, "finishRegistration", create(m.finishRegistration.input, { credentialJson })),
    beginAuthentication: (req) => grpcCall(svc, "beginAuthentication", create(m.beginAuthentication.input, req)),
    finishAuthentication: (credentialJson) => grpcCall(svc, "finishAuthentication", create(m.finishAuthentication.input, { credentialJson })),
  };
}

const TRANSPORTS: [string, (svc: TestService) => Transport][] = [
  ["Connect (HTTP/1.1, JSON)", connectTransport],
  ["gRPC (grpc-js, HTTP/2)", grpcTransport],
];

/** Every line the service logs, at the most verbose level. */
const logLines: string[] = [];
let svc: TestService;

beforeAll(async () => {
  svc = await startTestService(undefined, { logger: createLogger("trace", { write: (line: string) => void logLines.push(line) }) });
});
afterAll(async () => {
  await svc?.close();
});

/** Begins a registration with `req`, lets `authenticator` answer with `overrides` and finishes it. */
async function registerWith(
  t: Transport,
  authenticator: SoftAuthenticator,
  req: Init<typeof BeginRegistrationRequestSchema> & { userId: string },
  overrides?: CeremonyOverrides,
): Promise<{ credential: Promise<Credential>; options: Record<string, unknown> }> {
  const begin = await t.beginRegistration({ userName: `${req.userId}@example.com`, ...req });
  const created = authenticator.create(begin.optionsJson, ORIGIN, overrides);
  const credential = t.finishRegistration(JSON.stringify(created)).then((r) => r.credential!);
  return { credential, options: JSON.parse(begin.optionsJson) };
}

async function registrationEvents(userId: string) {
  return (await svc.connect.listAuditEvents({ userId })).events.filter((e) => e.type === AuditEventType.REGISTRATION);
}

const uniqueUser = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

describe.each(TRANSPORTS)("conditional create over %s", (_, transportOf) => {
  it("accepts an attestation without user presence when begun conditional; the credential and its audit event say so", async () => {
    const t = transportOf(svc);
    const userId = uniqueUser("upgraded");
    const { credential } = await registerWith(t, new SoftAuthenticator(), { userId, conditional: true }, { conditional: true });
    const created = await credential;
    expect(created.createdConditionally).toBe(true);
    expect(created.userVerified).toBe(false);
    const [listed] = (await svc.connect.listCredentials({ userId })).credentials;
    expect(listed).toMatchObject({ credentialId: created.credentialId, createdConditionally: true });
    const [event] = await registrationEvents(userId);
    expect(event).toMatchObject({ outcome: AuditOutcome.SUCCESS, credentialId: created.credentialId });
    expect(event!.details.conditional).toBe("true");
  });

  it("refuses UP=0 in a normal ceremony (USER_PRESENCE_REQUIRED), audited without the conditional detail", async () => {
    const t = transportOf(svc);
    const userId = uniqueUser("normal");
    const { credential } = await registerWith(t, new SoftAuthenticator(), { userId }, { userPresent: false });
    await expectRpcError(credential, Code.Unauthenticated, "USER_PRESENCE_REQUIRED");
    const [event] = await registrationEvents(userId);
    expect(event).toMatchObject({ outcome: AuditOutcome.FAILURE, reason: "USER_PRESENCE_REQUIRED" });
    expect(event!.details).not.toHaveProperty("conditional");
    expect((await svc.connect.listCredentials({ userId })).credentials).toEqual([]);
  });

  it("keeps a normal ceremony's credential marked not conditional", async () => {
    const userId = uniqueUser("plain");
    const { credential } = await registerWith(transportOf(svc), new SoftAuthenticator(), { userId });
    expect((await credential).createdConditionally).toBe(false);
    expect((await registrationEvents(userId))[0]!.details).not.toHaveProperty("conditional");
  });

  it("still enforces required user verification: UV=0 is refused, UV=1 accepted", async () => {
    const t = transportOf(svc);
    const required = { preferences: { userVerification: UserVerificationRequirement.REQUIRED }, conditional: true };
    const refused = await registerWith(t, new SoftAuthenticator(), { userId: uniqueUser("uv-required"), ...required }, { conditional: true });
    await expectRpcError(refused.credential, Code.Unauthenticated, "USER_VERIFICATION_REQUIRED");
    const verified = await registerWith(t, new SoftAuthenticator(), { userId: uniqueUser("uv-done"), ...required }, { conditional: true, userVerified: true });
    expect(await verified.credential).toMatchObject({ createdConditionally: true, userVerified: true });
  });
});

describe.each(TRANSPORTS)("extensions over %s", (_, transportOf) => {
  it("requests credProps always and passes the caller's inputs into the options", async () => {
    const t = transportOf(svc);
    const first = Buffer.alloc(32, 1).toString("base64url");
    const extensionsJson = JSON.stringify({ prf: { eval: { first } }, largeBlob: { support: "preferred" } });
    const begin = await t.beginRegistration({ userId: uniqueUser("opts"), userName: "o@example.com", extensionsJson });
    expect(JSON.parse(begin.optionsJson).extensions).toEqual({ credProps: true, prf: { eval: { first } }, largeBlob: { support: "preferred" } });
    const plain = await t.beginRegistration({ userId: uniqueUser("opts"), userName: "o@example.com" });
    expect(JSON.parse(plain.optionsJson).extensions).toEqual({ credProps: true });
    const auth = await t.beginAuthentication({ extensionsJson: '{"largeBlob":{"read":true}}' });
    expect(JSON.parse(auth.optionsJson).extensions).toEqual({ largeBlob: { read: true } });
    expect(JSON.parse((await t.beginAuthentication({})).optionsJson)).not.toHaveProperty("extensions");
  });

  it("records credProps rk, prf enabled and largeBlob supported on the credential", async () => {
    const t = transportOf(svc);
    const userId = uniqueUser("ext");
    const authenticator = new SoftAuthenticator({ prf: true, largeBlob: true, discoverable: false });
    const { credential } = await registerWith(t, authenticator, { userId, extensionsJson: '{"prf":{},"largeBlob":{"support":"required"}}' });
    expect(await credential).toMatchObject({ discoverable: false, prfEnabled: true, largeBlobSupported: true });
    const [listed] = (await svc.connect.listCredentials({ userId })).credentials;
    expect(listed).toMatchObject({ discoverable: false, prfEnabled: true, largeBlobSupported: true });
  });

  it("leaves each field unset when the browser did not report it, or reported the wrong type", async () => {
    const t = transportOf(svc);
    const unasked = await registerWith(t, new SoftAuthenticator({ prf: true, largeBlob: true }), { userId: uniqueUser("unasked") });
    const c = await unasked.credential;
    expect([c.discoverable, c.prfEnabled, c.largeBlobSupported]).toEqual([true, undefined, undefined]);

    const userId = uniqueUser("hostile");
    const hostile = { credProps: { rk: "yes" }, prf: { enabled: 1, results: "x" }, largeBlob: [true] };
    const odd = await registerWith(t, new SoftAuthenticator(), { userId }, { clientExtensionResults: hostile });
    const h = await odd.credential;
    expect([h.discoverable, h.prfEnabled, h.largeBlobSupported]).toEqual([undefined, undefined, undefined]);
    const [listed] = (await svc.connect.listCredentials({ userId })).credentials;
    expect([listed!.discoverable, listed!.prfEnabled, listed!.largeBlobSupported]).toEqual([undefined, undefined, undefined]);
  });

  it("refuses unknown or malformed extension inputs with INVALID_ARGUMENT FIELD_INVALID", async () => {
    const t = transportOf(svc);
    const reg = (extensionsJson: string) => t.beginRegistration({ userId: uniqueUser("bad"), userName: "b@example.com", extensionsJson });
    await expectRpcError(reg('{"hmacCreateSecret":true}'), Code.InvalidArgument, "FIELD_INVALID");
    await expectRpcError(reg('{"prf":{"eval":{"first":"not base64url!"}}}'), Code.InvalidArgument, "FIELD_INVALID");
    await expectRpcError(reg(JSON.stringify({ credProps: true, pad: "x".repeat(2048) })), Code.InvalidArgument, "FIELD_INVALID");
    await expectRpcError(reg("{"), Code.InvalidArgument, "FIELD_INVALID");
    const auth = (extensionsJson: string) => t.beginAuthentication({ extensionsJson });
    await expectRpcError(auth('{"prf":{"evalByCredential":{"AAAA":{"first":"AAAA"}}}}'), Code.InvalidArgument, "FIELD_INVALID");
    await expectRpcError(auth('{"largeBlob":{"write":"AAAA"}}'), Code.InvalidArgument, "FIELD_INVALID");
    await expectRpcError(auth('{"credProps":true}'), Code.InvalidArgument, "FIELD_INVALID");
  });
});

describe("PRF outputs and large blobs are never kept", () => {
  it("a planted PRF output and a largeBlob blob reach no log line, audit event or stored item, accepted or refused", async () => {
    const planted = `PLANTED${randomBytes(16).toString("hex")}`;
    const users: string[] = [];
    const authenticator = new SoftAuthenticator({ prf: true, largeBlob: true });
    const salt = Buffer.alloc(32, 9).toString("base64url");
    const plantedResults = { credProps: { rk: true }, prf: { enabled: true, results: { first: planted } }, largeBlob: { supported: true, blob: planted } };

    for (const [, transportOf] of TRANSPORTS) {
      const t = transportOf(svc);
      const userId = uniqueUser("prf");
      users.push(userId);
      // A registration that evaluates PRF at once (genuine outputs), and one carrying planted ones.
      const genuine = await registerWith(t, authenticator, { userId, extensionsJson: JSON.stringify({ prf: { eval: { first: salt } } }) });
      expect(await genuine.credential).toMatchObject({ prfEnabled: true });
      const plantedReg = await registerWith(t, new SoftAuthenticator(), { userId }, { clientExtensionResults: plantedResults });
      expect(await plantedReg.credential).toMatchObject({ prfEnabled: true, largeBlobSupported: true });
      // A refused registration (a foreign origin) carrying planted outputs: its failure event.
      const begin = await t.beginRegistration({ userId, userName: "p@example.com" });
      const foreign = new SoftAuthenticator().create(begin.optionsJson, ORIGIN, { origin: "https://evil.example", clientExtensionResults: plantedResults });
      await expectRpcError(t.finishRegistration(JSON.stringify(foreign)), Code.Unauthenticated, "ORIGIN_MISMATCH");

      // Sign-ins with PRF evaluation and a largeBlob read, accepted and refused.
      const extensionsJson = JSON.stringify({ prf: { eval: { first: salt, second: salt } }, largeBlob: { read: true } });
      const auth = await t.beginAuthentication({ userId, extensionsJson });
      const asserted = authenticator.get(auth.optionsJson, ORIGIN);
      expect(asserted.clientExtensionResults).toHaveProperty("prf.results.second");
      expect((await t.finishAuthentication(JSON.stringify(asserted))).userId).toBe(userId);
      const again = await t.beginAuthentication({ userId, extensionsJson });
      const replanted = authenticator.get(again.optionsJson, ORIGIN, { clientExtensionResults: { prf: { results: { first: planted } }, largeBlob: { blob: planted } } });
      expect((await t.finishAuthentication(JSON.stringify(replanted))).userId).toBe(userId);
      const refused = await t.beginAuthentication({ userId, extensionsJson });
      const badOrigin = authenticator.get(refused.optionsJson, ORIGIN, { origin: "https://evil.example", clientExtensionResults: { prf: { results: { first: planted } } } });
      await expectRpcError(t.finishAuthentication(JSON.stringify(badOrigin)), Code.Unauthenticated, "ORIGIN_MISMATCH");
    }

    const secrets = [planted, ...authenticator.prfOutputs];
    expect(authenticator.prfOutputs.length).toBeGreaterThanOrEqual(6);
    const events = JSON.stringify(await Promise.all(users.map(async (userId) => (await svc.connect.listAuditEvents({ userId, pageSize: 500 })).events)), bigints);
    expect(events).toContain("ORIGIN_MISMATCH"); // the refusals were audited, so their events were looked at
    expect(logLines.length).toBeGreaterThan(0);
    const stored = await everyStoredItem();
    for (const secret of secrets) {
      expect(events).not.toContain(secret);
      expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
      expect(stored).not.toContain(secret);
      expect(stored).not.toContain(Buffer.from(secret, "base64url").toString("base64"));
    }
  });
});

const bigints = (_: string, v: unknown) => (typeof v === "bigint" ? String(v) : v);

/** Every item of every table, as JSON with binary attributes in base64url and base64. */
async function everyStoredItem(): Promise<string> {
  const out: unknown[] = [];
  for (const table of Object.values(tableNames(svc.tablePrefix))) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await svc.dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start as never }));
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return JSON.stringify(out, (_, v: unknown) =>
    v instanceof Uint8Array ? `${Buffer.from(v).toString("base64url")} ${Buffer.from(v).toString("base64")} ${Buffer.from(v).toString("latin1")}` : v,
  );
}
