/**
 * Credential public keys that prove nothing (fifth attack run): format "none" attests nothing
 * about the key, and node:crypto verifies with any key it can import. An Ed25519 key of small
 * order verifies one fixed signature for every message, an RSA key with e = 1 verifies the padded
 * digest itself: whoever registered such a key could let anyone sign in as that user. Each is
 * refused at FinishRegistration, and a sign-in with one stored before that is refused too.
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { Code } from "@connectrpc/connect";
import { encodeCBOR, type CBORType } from "@levischuck/tiny-cbor";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantKey } from "../../src/store/keys.js";
import { tableNames } from "../../src/store/tables.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, ORIGIN, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator, type CoseAlg } from "../support/soft-authenticator.js";

const cose = (entries: [number, CBORType][]) => Buffer.from(encodeCBOR(new Map(entries)));
const ed25519Key = (x: Uint8Array) => cose([[1, 1], [3, -8], [-1, 6], [-2, x]]);
const rsaKey = (n: Uint8Array, e: Uint8Array) => cose([[1, 3], [3, -257], [-1, n], [-2, e]]);
const rsaModulus = (bits: number) => Buffer.from(generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({ format: "jwk" }).n!, "base64url");

/** The identity point (y = 1), the one small-order Ed25519 key whose fixed signature needs no luck. */
const IDENTITY = Buffer.concat([Buffer.of(1), Buffer.alloc(31)]);
/** (0, −1): order 2. */
const ORDER_TWO = Buffer.from(`ec${"ff".repeat(30)}7f`, "hex");
/** R = the base point, S = 1: S·B = R + h·A for every message h when A is the identity. */
const FIXED_SIGNATURE = Buffer.concat([Buffer.from(ed25519.Point.BASE.toBytes()), Buffer.of(1), Buffer.alloc(31)]);

const FORGED_KEYS: [string, Buffer][] = [
  ["Ed25519 identity point", ed25519Key(IDENTITY)],
  ["Ed25519 point of order 2", ed25519Key(ORDER_TWO)],
  ["Ed25519 identity spelled y = p + 1 (not canonical)", ed25519Key(Buffer.from(`ee${"ff".repeat(30)}7f`, "hex"))],
  ["Ed25519 mixed order (B + a point of order 2)", ed25519Key(ed25519.Point.BASE.add(ed25519.Point.fromBytes(ORDER_TWO)).toBytes())],
  ["RSA e = 1", rsaKey(rsaModulus(2048), Buffer.of(1))],
  ["RSA e = 2", rsaKey(rsaModulus(2048), Buffer.of(2))],
  ["RSA 1024-bit modulus", rsaKey(rsaModulus(1024), Buffer.of(1, 0, 1))],
  ["RSA 32768-bit modulus", rsaKey(Buffer.concat([Buffer.of(0xc1), Buffer.alloc(4094, 0xab), Buffer.of(0xab)]), Buffer.of(1, 0, 1))],
  ["RSA even modulus", rsaKey(Buffer.concat([rsaModulus(2048).subarray(0, 255), Buffer.of(2)]), Buffer.of(1, 0, 1))],
  ["EC2 P-256 point off the curve", cose([[1, 2], [3, -7], [-1, 1], [-2, Buffer.alloc(32, 1)], [-3, Buffer.alloc(32, 2)]])],
  ["EC2 P-256 key labelled ES512", p256LabelledEs512()],
];

/** A real P-256 point under ES512's label: the library would verify it with P-256 and SHA-512. */
function p256LabelledEs512(): Buffer {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  return cose([[1, 2], [3, -36], [-1, 1], [-2, Buffer.from(jwk.x!, "base64url")], [-3, Buffer.from(jwk.y!, "base64url")]]);
}

describe("credential public keys", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => closeAll(svc));

  it.each(FORGED_KEYS)("refuses to register %s, and stores nothing", async (label, key) => {
    const userId = `forged-${label.replaceAll(/\W+/g, "-")}`;
    const begin = await svc.connect.beginRegistration({ userId, userName: userId });
    const credential = new SoftAuthenticator().create(begin.optionsJson, ORIGIN, { credentialPublicKey: key });
    await expectRpcError(svc.connect.finishRegistration({ credentialJson: JSON.stringify(credential) }), Code.Unauthenticated, "ATTESTATION_INVALID");
    expect((await svc.connect.listCredentials({ userId })).credentials).toEqual([]);
  });

  it.each<CoseAlg>([-8, -7, -257, -35, -36, -37])("registers and signs in with an honest key of COSE alg %i", async (alg) => {
    const authenticator = new SoftAuthenticator({ alg });
    await register(svc, authenticator, `honest${alg}`);
    const done = await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, `honest${alg}`) });
    expect(done.userId).toBe(`honest${alg}`);
  });

  it("refuses a sign-in with a small-order Ed25519 key stored before registration refused them", async () => {
    const credentialId = await register(svc, new SoftAuthenticator({ alg: -8 }), "legacy");
    // Another replica on the same tables: its credential cache has never seen the honest key.
    const replica = await startTestService(svc);
    // As a registration before this rule left it: the identity point as the stored key.
    await svc.dynamo.send(
      new UpdateItemCommand({
        TableName: tableNames(svc.tablePrefix).credentials,
        Key: { pk: { S: tenantKey(TEST_TENANT.id, credentialId) } },
        UpdateExpression: "SET publicKey = :k",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":k": { B: ed25519Key(IDENTITY) } },
      }),
    );
    const begin = JSON.parse((await replica.connect.beginAuthentication({ userId: "legacy" })).optionsJson) as { challenge: string };
    const clientDataJSON = Buffer.from(JSON.stringify({ type: "webauthn.get", challenge: begin.challenge, origin: ORIGIN, crossOrigin: false }));
    const rpIdHash = createHash("sha256").update(new URL(ORIGIN).hostname).digest();
    const authenticatorData = Buffer.concat([rpIdHash, Buffer.of(0x05), Buffer.of(0, 0, 0, 1)]); // UP, UV; counter 1
    const forged = {
      id: credentialId,
      rawId: credentialId,
      type: "public-key",
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString("base64url"),
        authenticatorData: authenticatorData.toString("base64url"),
        signature: FIXED_SIGNATURE.toString("base64url"),
        userHandle: null,
      },
    };
    try {
      await expectRpcError(replica.connect.finishAuthentication({ credentialJson: JSON.stringify(forged) }), Code.Unauthenticated, "SIGNATURE_INVALID");
    } finally {
      await replica.close();
    }
  });

  describe("the attestation object's encoding", () => {
    const text = (t: string) => Buffer.concat([Buffer.of(0x60 + t.length), Buffer.from(t)]);
    /** A CBOR map of (fewer than 24) entries, each its key's and value's bytes as given. */
    const map = (...entries: Buffer[][]) => Buffer.concat([Buffer.of(0xa0 + entries.length), ...entries.flat()]);
    /** A byte string's head in its shortest form (anything longer is refused for that alone). */
    const head = (length: number) => (length < 24 ? Buffer.of(0x40 + length) : length < 256 ? Buffer.of(0x58, length) : Buffer.of(0x59, length >> 8, length & 0xff));
    const FMT_NONE = [text("fmt"), text("none")];
    const EMPTY_ATT_STMT = [text("attStmt"), Buffer.of(0xa0)];
    /** The authData entry, `a` behind the byte-string head `authDataHead`. */
    const authData = (a: Buffer, authDataHead = head(a.length)) => [text("authData"), authDataHead, a];
    const P256 = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
    const [x, y] = [Buffer.from(P256.x!, "base64url"), Buffer.from(P256.y!, "base64url")];
    const es256Cose = (alg: Buffer) => Buffer.concat([Buffer.of(0xa5, 0x01, 0x02, 0x03), alg, Buffer.of(0x20, 0x01, 0x21, 0x58, 0x20), x, Buffer.of(0x22, 0x58, 0x20), y]);

    const shapes: [string, (authData: Buffer) => Buffer | undefined, Buffer?][] = [
      ["authData declared longer than the input", (a) => map(FMT_NONE, EMPTY_ATT_STMT, authData(a, head(a.length + 200)))],
      ["authData declared 2^32-1 bytes long", (a) => map(FMT_NONE, EMPTY_ATT_STMT, authData(a, Buffer.of(0x5a, 0xff, 0xff, 0xff, 0xff)))],
      ["a byte after the attestation object", (a) => Buffer.concat([map(FMT_NONE, EMPTY_ATT_STMT, authData(a)), Buffer.of(0)])],
      ["attStmt as an array", (a) => map(FMT_NONE, [text("attStmt"), Buffer.of(0x80)], authData(a))],
      ["fmt twice", (a) => map(FMT_NONE, FMT_NONE, EMPTY_ATT_STMT, authData(a))],
      ["a COSE alg in a longer form than needed", () => undefined, es256Cose(Buffer.of(0x38, 0x06))],
      ["a COSE key with alg twice", () => undefined, Buffer.concat([Buffer.of(0xa6, 0x01, 0x02, 0x03, 0x26, 0x03, 0x26), es256Cose(Buffer.of(0x26)).subarray(5)])],
    ];

    it.each(shapes)("refuses %s as CREDENTIAL_MALFORMED, and stores nothing", async (label, reencode, coseKey) => {
      const userId = `cbor-${label.replaceAll(/\W+/g, "-")}`;
      const begin = await svc.connect.beginRegistration({ userId, userName: userId });
      const credential = new SoftAuthenticator().create(begin.optionsJson, ORIGIN, coseKey ? { credentialPublicKey: coseKey } : {});
      const attestationObject = reencode(Buffer.from(credential.response.authenticatorData!, "base64url"));
      if (attestationObject) credential.response.attestationObject = attestationObject.toString("base64url");
      await expectRpcError(svc.connect.finishRegistration({ credentialJson: JSON.stringify(credential) }), Code.InvalidArgument, "CREDENTIAL_MALFORMED");
      expect((await svc.connect.listCredentials({ userId })).credentials).toEqual([]);
    });
  });
});
