import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AuthError } from "../../src/errors.js";
import { preflightAuthentication, preflightRegistration, type RelyingParty } from "../../src/webauthn/preflight.js";
import {
  AUTHENTICATION_B64_FIELDS,
  fieldAt,
  HOSTILE_ATTESTATION_OBJECTS,
  honestCredentials,
  REGISTRATION_B64_FIELDS,
  withField,
} from "../support/hostile.js";
import { ORIGIN } from "../support/service.js";

/**
 * Property: whatever a caller sends, the stateless verification entry points either accept it or
 * throw an AuthError (a clean code for the caller), never a TypeError, RangeError or a library's
 * own error. Runs are bounded in `npm test`; `FUZZ_RUNS=100000 npm run fuzz` runs longer.
 */
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const TIMEOUT_MS = Math.max(30_000, NUM_RUNS * 50);
const RP: RelyingParty = { rpId: "localhost", origins: [ORIGIN] };
const { registration, authentication } = honestCredentials();

const entryPoints = [
  { name: "preflightRegistration", preflight: preflightRegistration, honest: registration, b64Fields: REGISTRATION_B64_FIELDS },
  { name: "preflightAuthentication", preflight: preflightAuthentication, honest: authentication, b64Fields: AUTHENTICATION_B64_FIELDS },
] as const;

/** Passes, or fails as an AuthError; anything else fails the property with the thrown value. */
function onlyAuthErrors(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    expect(err, String((err as Error)?.stack ?? err)).toBeInstanceOf(AuthError);
  }
}

const bytesAsBase64 = fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b).toString("base64url"));
const cborAsBase64 = fc.constantFrom(...Object.values(HOSTILE_ATTESTATION_OBJECTS)).map((b) => Buffer.from(b).toString("base64url"));
/** Mutates an honest base64url value: truncates it, flips a byte of it, or appends to it. */
function mutatedBase64(original: string): fc.Arbitrary<string> {
  const bytes = Buffer.from(original, "base64url");
  return fc.oneof(
    fc.nat({ max: bytes.length }).map((n) => bytes.subarray(0, n).toString("base64url")),
    fc.tuple(fc.nat({ max: Math.max(bytes.length - 1, 0) }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const copy = Buffer.from(bytes);
      if (copy.length > 0) copy[i] = copy[i]! ^ x;
      return copy.toString("base64url");
    }),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => Buffer.concat([bytes, tail]).toString("base64url")),
  );
}
/** A client data JSON whose members are random JSON values instead of strings. */
const hostileClientData = fc
  .record({ type: fc.jsonValue(), challenge: fc.jsonValue(), origin: fc.jsonValue(), crossOrigin: fc.jsonValue() }, { requiredKeys: [] })
  .map((cd) => Buffer.from(JSON.stringify(cd)).toString("base64url"));

describe.each(entryPoints)("$name on hostile input", ({ preflight, honest, b64Fields }) => {
  it("the honest credential passes", () => {
    expect(preflight(JSON.stringify(honest), RP).json.id).toBe(honest.id);
  });

  it("any string: accepted or an AuthError", { timeout: TIMEOUT_MS }, () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: "binary" })), (s) => onlyAuthErrors(() => preflight(s, RP))), {
      numRuns: NUM_RUNS,
    });
  });

  it("any value in any field of an honest credential: accepted or an AuthError", { timeout: TIMEOUT_MS }, () => {
    const paths = [...b64Fields, ["type"], ["response"], ["clientExtensionResults"], ["authenticatorAttachment"], ["response", "transports"]];
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.option(fc.anything(), { nil: undefined }), (path, value) =>
        onlyAuthErrors(() => preflight(JSON.stringify(withField(honest, path, value)), RP)),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("hostile bytes in every base64url field: accepted or an AuthError", { timeout: TIMEOUT_MS }, () => {
    const mutation = fc.constantFrom(...b64Fields).chain((path) =>
      fc.tuple(
        fc.constant(path),
        fc.oneof(bytesAsBase64, cborAsBase64, hostileClientData, mutatedBase64(String(fieldAt(honest, path) ?? ""))),
      ),
    );
    fc.assert(
      fc.property(mutation, ([path, value]) => {
        // id and rawId must agree to get past the first check, so mutate them together half the time.
        const sameIds = path[0] === "id" ? withField(honest, ["rawId"], value) : honest;
        onlyAuthErrors(() => preflight(JSON.stringify(withField(sameIds, path, value)), RP));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("random edits of the honest JSON text: accepted or an AuthError", { timeout: TIMEOUT_MS }, () => {
    const text = JSON.stringify(honest);
    const edit = fc.tuple(fc.nat({ max: text.length }), fc.nat({ max: 16 }), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        const mutated = edits.reduce((s, [at, cut, insert]) => s.slice(0, at) + insert + s.slice(at + cut), text);
        onlyAuthErrors(() => preflight(mutated, RP));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
