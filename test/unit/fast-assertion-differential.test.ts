/**
 * Differential proof of the fast assertion verifier (src/webauthn/fast-assertion.ts with keys from
 * assertion-key.ts) against @simplewebauthn/server's verifyAuthenticationResponse: the same inputs
 * through both must give the same verdict, and when accepted the same counter, UV and backup flags.
 * Inputs: every authentication vector in ../shared/webauthn-vectors, fast-check mutations of them
 * and of software-authenticator assertions for every supported algorithm (including PS256, which no
 * vector has), and correctly signed assertions with arbitrary flags, counters and clientData.
 *
 * Documented differences, the only ones allowed:
 * - reasons: input our parser refuses is CREDENTIAL_MALFORMED (the service refuses it before the
 *   challenge is consumed), whatever the library names first; a wrong clientData.type is
 *   CLIENT_DATA_TYPE_MISMATCH where the library's message matches no pattern (SIGNATURE_INVALID).
 * - deferrals: a key outside the fast verifier's table, or an ECDSA signature that is not strict
 *   DER, is decided by the library itself (the service then calls it), so there is nothing to compare;
 *   the tests check these happen only for such keys and signatures.
 *
 * Bounded in `npm test`; `FUZZ_RUNS=20000 npm run fuzz` runs longer.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AsnParser, AsnSerializer } from "@peculiar/asn1-schema";
import { ECDSASigValue } from "@peculiar/asn1-ecc";
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { AuthError, type Reason } from "../../src/errors.js";
import { SUPPORTED_ALGORITHMS } from "../../src/webauthn/algorithms.js";
import { parseAssertion, type AuthenticationExpectation, type VerifiedAssertion } from "../../src/webauthn/assertion.js";
import { parseAssertionKey } from "../../src/webauthn/assertion-key.js";
import { checkAssertion, LIBRARY_DECIDES } from "../../src/webauthn/fast-assertion.js";
import { libraryVerify, verifyAuthentication } from "../../src/webauthn/verify-authentication.js";
import { forgeAssertion, forgeCredential, responseJson, type AssertionFields, type ForgedCredential } from "../support/assertion-forge.js";
import type { CoseAlg } from "../support/soft-authenticator.js";

const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const TIMEOUT_MS = Math.max(30_000, NUM_RUNS * 40);

type Verdict =
  | { readonly kind: "ok"; readonly result: VerifiedAssertion }
  | { readonly kind: "refused"; readonly reason: Reason; readonly byParser: boolean }
  | { readonly kind: "deferred"; readonly why: "key" | "signature" };

interface Case {
  readonly response: unknown;
  readonly expected: AuthenticationExpectation;
  readonly publicKey: Uint8Array;
  readonly prevCounter: number;
}

function refusal(err: unknown, byParser: boolean): Verdict {
  if (!(err instanceof AuthError)) throw err; // anything else is a bug in the verifier
  return { kind: "refused", reason: err.reason, byParser };
}

function fastVerdict(c: Case): Verdict {
  let assertion;
  try {
    assertion = parseAssertion(JSON.stringify(c.response));
  } catch (err) {
    return refusal(err, true);
  }
  const key = parseAssertionKey(c.publicKey);
  if (!key) return { kind: "deferred", why: "key" };
  try {
    const result = checkAssertion(assertion, c.expected, key, c.prevCounter);
    return result === LIBRARY_DECIDES ? { kind: "deferred", why: "signature" } : { kind: "ok", result };
  } catch (err) {
    return refusal(err, false);
  }
}

async function libraryVerdict(c: Case): Promise<Verdict> {
  try {
    const key = { credentialId: "", publicKey: c.publicKey, assertionKey: undefined };
    const response = c.response as AuthenticationResponseJSON;
    return { kind: "ok", result: await libraryVerify(response, c.expected, key, c.prevCounter) };
  } catch (err) {
    return refusal(err, false);
  }
}

/** Compares one case; returns the fast verdict so callers can count deferrals. */
async function compare(c: Case): Promise<Verdict> {
  const [fast, library] = [fastVerdict(c), await libraryVerdict(c)];
  if (fast.kind === "deferred") return fast;
  const context = JSON.stringify({ fast, library, case: c }, (_, v: unknown) =>
    v instanceof Uint8Array ? Buffer.from(v).toString("base64url") : v,
  );
  expect(fast.kind, context).toBe(library.kind);
  if (fast.kind === "ok" && library.kind === "ok") expect(fast.result, context).toEqual(library.result);
  if (fast.kind === "refused" && library.kind === "refused" && !fast.byParser) {
    const documented = fast.reason === "CLIENT_DATA_TYPE_MISMATCH" && library.reason === "SIGNATURE_INVALID";
    if (!documented) expect(fast.reason, context).toBe(library.reason);
  }
  return fast;
}

// ---------------------------------------------------------------- the real vectors

const vectorDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../shared/webauthn-vectors");

interface AuthenticationVector {
  readonly kind: string;
  readonly rpId: string | readonly string[];
  readonly origin: string | readonly string[];
  readonly expectedChallenge: string;
  readonly response: AuthenticationResponseJSON;
  readonly credentialPublicKey: string;
  readonly prevCounter: number;
  readonly options: { readonly requireUserVerification?: boolean };
}

const list = (v: string | readonly string[]): readonly string[] => (typeof v === "string" ? [v] : v);
const vectors = readdirSync(vectorDir)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((file) => ({ file, v: JSON.parse(readFileSync(path.join(vectorDir, file), "utf8")) as AuthenticationVector }))
  .filter(({ v }) => v.kind === "authentication");

function vectorCase(v: AuthenticationVector): Case {
  const [rpId] = list(v.rpId);
  return {
    response: v.response,
    expected: {
      challenge: v.expectedChallenge,
      origins: list(v.origin),
      rpId: rpId!,
      requireUserVerification: v.options.requireUserVerification ?? false,
    },
    publicKey: Buffer.from(v.credentialPublicKey, "base64url"),
    prevCounter: v.prevCounter,
  };
}

describe("fast verifier = @simplewebauthn/server on the real vectors", () => {
  it("finds the 43 authentication vectors", () => {
    expect(vectors).toHaveLength(43);
  });

  it.each(vectors)("$file", async ({ file, v }) => {
    const fast = await compare(vectorCase(v));
    // Only the Ed448 key (COSE -53) is outside the fast verifier's table; the library refuses it.
    expect(fast.kind === "deferred", file).toBe(file === "w3c-auth-packed-ed448.json");
  });

  it("decides both ways: the vectors include accepted and refused assertions on the fast path", async () => {
    const kinds = vectors.map(({ v }) => fastVerdict(vectorCase(v)).kind);
    expect(kinds.filter((k) => k === "ok").length).toBeGreaterThan(25);
    expect(kinds.filter((k) => k === "refused").length).toBeGreaterThan(5);
  });
});

// ---------------------------------------------------------------- forged and mutated assertions

const RP_ID = "localhost";
const ORIGIN = "http://localhost:8080";
const CHALLENGE = Buffer.from("a challenge the service issued, 32+").toString("base64url");
const CREDENTIAL_ID = Buffer.from("credential-id").toString("base64url");
const UP = 0x01;
const UV = 0x04;

const credentials = new Map<CoseAlg, ForgedCredential>(
  SUPPORTED_ALGORITHMS.map((alg) => [alg as CoseAlg, forgeCredential(alg as CoseAlg)]),
);
const credentialOf = (alg: CoseAlg) => credentials.get(alg)!;

const honestFields = (counter: number): AssertionFields => ({
  rpId: RP_ID,
  flags: UP | UV,
  counter,
  extensions: false,
  clientData: { type: "webauthn.get", challenge: CHALLENGE, origin: ORIGIN, crossOrigin: false },
});

function forgedCase(alg: CoseAlg, fields: AssertionFields, prevCounter: number, requireUserVerification: boolean): Case {
  const credential = credentialOf(alg);
  return {
    response: responseJson(CREDENTIAL_ID, forgeAssertion(credential, fields)),
    expected: { challenge: CHALLENGE, origins: [ORIGIN], rpId: RP_ID, requireUserVerification },
    publicKey: credential.publicKey,
    prevCounter,
  };
}

const algorithm = fc.constantFrom(...(SUPPORTED_ALGORITHMS as CoseAlg[]));
const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });

/** Correctly signed, so every check before the signature is what decides. */
const shapes = fc.record({
  alg: algorithm,
  rpId: fc.constantFrom(RP_ID, RP_ID, RP_ID, "evil.example"),
  // AT stays off: an attested key has no place in an assertion, and the parser refuses it.
  flags: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0x1c }).map((f) => f | UP)).map((f) => f & ~0x40),
  counter: fc.oneof(fc.constantFrom(0, 1, 7, 8), uint32),
  prevCounter: fc.oneof(fc.constantFrom(0, 7), uint32),
  extensions: fc.boolean(),
  requireUserVerification: fc.boolean(),
  clientData: fc.record(
    {
      type: fc.constantFrom("webauthn.get", "webauthn.get", "webauthn.get", "webauthn.create", "payment.get"),
      challenge: fc.oneof(
        { arbitrary: fc.constant(CHALLENGE), weight: 4 },
        fc.constant(CHALLENGE.slice(1)),
        fc.base64String({ minLength: 4, maxLength: 24 }),
      ),
      origin: fc.constantFrom(ORIGIN, ORIGIN, ORIGIN, "https://evil.example", "http://localhost:8081"),
      crossOrigin: fc.boolean(),
      topOrigin: fc.constantFrom("", ORIGIN, "https://evil.example"),
      tokenBinding: fc.constantFrom<unknown>({ status: "present", id: "x" }, { status: "supported" }, { status: "bogus" }, "unused", [], {}, null),
    },
    { requiredKeys: ["type", "challenge", "origin"] },
  ),
});

function byteMutation(bytes: Buffer): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.nat({ max: bytes.length - 1 }).chain((n) => fc.constant(bytes.subarray(0, n))),
    fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ x;
      return copy;
    }),
    fc.uint8Array({ minLength: 1, maxLength: 16 }).map((tail) => Buffer.concat([bytes, tail])),
  );
}

type Part = "authenticatorData" | "clientDataJSON" | "signature";

/** An honest assertion for a random algorithm, then one part of it (or the stored key) mutated. */
const mutatedCases = fc
  .record({ alg: algorithm, part: fc.constantFrom<Part | "publicKey">("authenticatorData", "clientDataJSON", "signature", "publicKey") })
  .chain(({ alg, part }) => {
    const credential = credentialOf(alg);
    const honest = forgeAssertion(credential, honestFields(8));
    const original = part === "publicKey" ? credential.publicKey : honest[part];
    return byteMutation(original).map((mutated): Case => ({
      response: responseJson(CREDENTIAL_ID, part === "publicKey" ? honest : { ...honest, [part]: mutated }),
      expected: { challenge: CHALLENGE, origins: [ORIGIN], rpId: RP_ID, requireUserVerification: true },
      publicKey: part === "publicKey" ? mutated : credential.publicKey,
      prevCounter: 7,
    }));
  });

/** A real vector's response with one base64url part mutated. */
const okVectors = vectors.filter(({ file }) => file !== "w3c-auth-packed-ed448.json");
const mutatedVectors = fc
  .record({ index: fc.nat({ max: okVectors.length - 1 }), part: fc.constantFrom<Part>("authenticatorData", "clientDataJSON", "signature") })
  .chain(({ index, part }) => {
    const base = vectorCase(okVectors[index]!.v);
    const response = base.response as AuthenticationResponseJSON;
    return byteMutation(Buffer.from(response.response[part], "base64url")).map((mutated): Case => ({
      ...base,
      response: { ...response, response: { ...response.response, [part]: mutated.toString("base64url") } },
    }));
  });

describe("fast verifier = @simplewebauthn/server on forged and mutated assertions", () => {
  it.each(SUPPORTED_ALGORITHMS as CoseAlg[])("an honest assertion with COSE alg %i is accepted by both, on the fast path", async (alg) => {
    const fast = await compare(forgedCase(alg, honestFields(8), 7, true));
    expect(fast).toEqual({ kind: "ok", result: { newCounter: 8, userVerified: true, backupEligible: false, backedUp: false } });
  });

  it(
    "correctly signed assertions with arbitrary flags, counters and clientData: same verdict and flags",
    async () => {
      const kinds = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(shapes, async (s) => {
          // ED and the extensions bytes vary independently: a mismatch is malformed authenticator data.
          const fast = await compare(forgedCase(s.alg, s, s.prevCounter, s.requireUserVerification));
          expect(fast.kind).not.toBe("deferred"); // strict-DER signatures and table keys only
          kinds.set(fast.kind, (kinds.get(fast.kind) ?? 0) + 1);
        }),
        { numRuns: NUM_RUNS * 4 },
      );
      // Acceptances are rare here (every field must be right); the next property generates them.
      expect(kinds.get("refused")).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );

  it(
    "accepted shapes: BE/BS, UV and the counter come out the same, including UV=0 when not required",
    async () => {
      const accepted = fc.record({
        alg: algorithm,
        be: fc.boolean(),
        bs: fc.boolean(),
        uv: fc.boolean(),
        counter: uint32,
      });
      await fc.assert(
        fc.asyncProperty(accepted, async ({ alg, be, bs, uv, counter }) => {
          const flags = UP | (uv ? UV : 0) | (be ? 0x08 : 0) | (bs ? 0x10 : 0);
          const fast = await compare(forgedCase(alg, { ...honestFields(counter), flags }, 0, false));
          expect(fast.kind).toBe(bs && !be ? "refused" : "ok");
        }),
        { numRuns: NUM_RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    "software-authenticator assertions with a mutated authenticatorData, clientDataJSON, signature or stored key",
    async () => {
      await fc.assert(fc.asyncProperty(mutatedCases, async (c) => void (await compare(c))), { numRuns: NUM_RUNS * 4 });
    },
    TIMEOUT_MS,
  );

  it(
    "real vectors with a mutated authenticatorData, clientDataJSON or signature",
    async () => {
      await fc.assert(fc.asyncProperty(mutatedVectors, async (c) => void (await compare(c))), { numRuns: NUM_RUNS * 4 });
    },
    TIMEOUT_MS,
  );
});

// ---------------------------------------------------------------- the documented deferral

/** Re-encodes an ECDSA DER signature leniently, as BER readers accept: the same (r, s). */
const LENIENT_ENCODINGS: Readonly<Record<string, (der: Buffer) => Buffer>> = {
  "a trailing byte": (der) => Buffer.concat([der, Buffer.from([0])]),
  "a long-form sequence length": (der) => Buffer.concat([Buffer.from([0x30, 0x81, der[1]!]), der.subarray(2)]),
};

describe("ECDSA signatures that are not strict DER", () => {
  it.each(Object.entries(LENIENT_ENCODINGS))("with %s: the library accepts, the fast path defers to it, the service accepts", async (_, encode) => {
    const credential = credentialOf(-7);
    const honest = forgeAssertion(credential, honestFields(8));
    const lenient = { ...honest, signature: encode(honest.signature) };
    // The same (r, s) to the library's reader, but not the same bytes: not strict DER.
    const parsed = AsnParser.parse(lenient.signature, ECDSASigValue);
    expect(Buffer.from(AsnSerializer.serialize(parsed)).equals(lenient.signature)).toBe(false);
    const c: Case = { ...forgedCase(-7, honestFields(8), 7, true), response: responseJson(CREDENTIAL_ID, lenient) };

    expect(await libraryVerdict(c)).toMatchObject({ kind: "ok" });
    expect(fastVerdict(c)).toEqual({ kind: "deferred", why: "signature" });
    const assertion = parseAssertion(JSON.stringify(c.response));
    const key = { credentialId: CREDENTIAL_ID, publicKey: c.publicKey, assertionKey: parseAssertionKey(c.publicKey) };
    await expect(verifyAuthentication(assertion, c.expected, key)).resolves.toMatchObject({ newCounter: 8 });
  });

  it("a strict-DER signature that does not verify is refused on the fast path, without the library", () => {
    const credential = credentialOf(-7);
    const other = forgeAssertion(credential, { ...honestFields(8), counter: 9 });
    const c: Case = { ...forgedCase(-7, honestFields(8), 7, true) };
    const response = c.response as AuthenticationResponseJSON;
    const swapped = { ...response, response: { ...response.response, signature: other.signature.toString("base64url") } };
    expect(fastVerdict({ ...c, response: swapped })).toEqual({ kind: "refused", reason: "SIGNATURE_INVALID", byParser: false });
  });

  it("keys outside the table (an EC2 P-256 key labelled ES512) are the library's to verify", async () => {
    const credential = credentialOf(-7);
    const alg = credential.publicKey.indexOf(Buffer.from([0x03, 0x26])); // label 3 (alg): -7
    const key = Buffer.concat([
      credential.publicKey.subarray(0, alg + 1),
      Buffer.from([0x38, 0x23]), // -36
      credential.publicKey.subarray(alg + 2),
    ]);
    expect(alg).toBeGreaterThan(0);
    expect(parseAssertionKey(key)).toBeUndefined();
    expect(parseAssertionKey(credential.publicKey)).toBeDefined();
  });
});
