/**
 * Real WebAuthn verification vectors (../shared/webauthn-vectors, see its README) run through the
 * service's own verification path: preflight (parse + stateless client-data checks), then
 * verifyRegistration / verifyAuthentication with the service's policy, then the counter rule.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SettingsService, type RootCertIdentifier } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import { AuthError, type Reason } from "../../src/errors.js";
import { installFetchDeadline } from "../../src/webauthn/fetch-deadline.js";
import { preflightAuthentication, preflightRegistration, type RelyingParty } from "../../src/webauthn/preflight.js";
import { parseAssertionKey } from "../../src/webauthn/assertion-key.js";
import { SUPPORTED_ALGORITHMS } from "../../src/webauthn/algorithms.js";
import { verifyAuthentication } from "../../src/webauthn/verify-authentication.js";
import {
  registrationPolicy,
  verifyRegistration,
  type RegistrationPolicy,
} from "../../src/webauthn/verify-registration.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const vectorDir = path.resolve(repoRoot, "../shared/webauthn-vectors");

interface Vector {
  readonly kind: "registration" | "authentication";
  /** A string, except in two SimpleWebAuthn cases whose source passed a one-element list. */
  readonly rpId: string | readonly string[];
  readonly origin: string | readonly string[];
  readonly expectedChallenge: string;
  readonly response: unknown;
  readonly credentialPublicKey: string | null;
  readonly prevCounter: number | null;
  readonly options: {
    readonly requireUserVerification?: boolean;
    readonly requireUserPresence?: boolean;
    readonly supportedAlgorithmIDs?: readonly number[];
    readonly attestationSafetyNetEnforceCTSCheck?: boolean;
  };
  readonly validAt: string | null;
  readonly rootCertificates?: Readonly<Record<string, string[]>> | null;
  readonly expect: "ok" | "fail";
  readonly policyDependent?: boolean;
  readonly knownGap?: string;
  readonly derived?: { readonly credentialAlg?: number };
}

type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: Reason };
const OK: Verdict = { ok: true };
const fail = (reason: Reason): Verdict => ({ ok: false, reason });

/**
 * The reason we return for each vector that must fail (not policy-dependent, not a known gap).
 * Library failures are mapped from message text in src/webauthn/library-errors.ts, so a reworded
 * message in a library upgrade shows up here.
 */
const FAIL_REASONS: Readonly<Record<string, Reason>> = {
  "bad-auth-replayed-challenge.json": "CHALLENGE_INVALID",
  // The signature covers authenticatorData, so a changed counter byte is a bad signature.
  "bad-auth-tampered-authdata-counter.json": "SIGNATURE_INVALID",
  "bad-auth-tampered-signature.json": "SIGNATURE_INVALID",
  "bad-auth-wrong-credential-key.json": "SIGNATURE_INVALID",
  "bad-auth-wrong-origin.json": "ORIGIN_MISMATCH",
  "bad-auth-wrong-rpid.json": "RP_ID_MISMATCH",
  // validAt is null: verified as of today, after the attestation leaf expired.
  "bad-reg-android-key-expired-now.json": "ATTESTATION_INVALID",
  "bad-reg-apple-expired-now.json": "ATTESTATION_INVALID",
  // Another ceremony's clientDataJSON with its own (expected) challenge: the attestation signature fails.
  "bad-reg-clientdata-swapped.json": "ATTESTATION_INVALID",
  "bad-reg-tampered-attestation-sig.json": "ATTESTATION_INVALID",
  "bad-reg-wrong-origin.json": "ORIGIN_MISMATCH",
  "bad-reg-wrong-rpid.json": "RP_ID_MISMATCH",
  "py-auth-uv-required-not-set.json": "USER_VERIFICATION_REQUIRED",
  "py-auth-wrong-public-key.json": "SIGNATURE_INVALID",
  "py-reg-packed-wrong-root.json": "ATTESTATION_INVALID",
  "swa-auth-es256-counter-not-increased.json": "COUNTER_REGRESSION",
  // The source also expects a wrong origin, and preflight checks the origin before the challenge.
  "swa-auth-es256-wrong-challenge.json": "ORIGIN_MISMATCH",
  "swa-auth-es256-wrong-origin.json": "ORIGIN_MISMATCH",
  "swa-auth-es256-wrong-rpid.json": "RP_ID_MISMATCH",
  "swa-reg-none-wrong-challenge.json": "CHALLENGE_INVALID",
  "swa-reg-none-wrong-origin.json": "ORIGIN_MISMATCH",
  "swa-reg-none-wrong-rpid.json": "RP_ID_MISMATCH",
  "swa-reg-packed-aaguid-ext-mismatch.json": "ATTESTATION_INVALID",
  "swa-reg-safetynet-cts-false-default.json": "ATTESTATION_INVALID",
  "swa-reg-tpm-aaguid-ext-mismatch.json": "ATTESTATION_INVALID",
};

/**
 * policyDependent vectors, decided by our policy: cross-origin ceremonies (crossOrigin true or a
 * topOrigin) are refused; a malformed tokenBinding is refused, a well-formed one is ignored.
 */
const POLICY: Readonly<Record<string, { readonly verdict: Verdict; readonly why: string }>> = {
  "w3c-reg-none-es256-crossOrigin.json": { verdict: fail("CROSS_ORIGIN_REJECTED"), why: "crossOrigin=true" },
  "w3c-reg-none-es256-topOrigin.json": { verdict: fail("CROSS_ORIGIN_REJECTED"), why: "crossOrigin=true + topOrigin" },
  "w3c-auth-none-es256-crossOrigin.json": { verdict: fail("CROSS_ORIGIN_REJECTED"), why: "crossOrigin=true" },
  "w3c-auth-none-es256-topOrigin.json": { verdict: fail("CROSS_ORIGIN_REJECTED"), why: "crossOrigin=true + topOrigin" },
  // DIFFERS from the vector (expect ok): py_webauthn ignores it, we (via the library) refuse it.
  "py-reg-fido-u2f-token-binding.json": {
    verdict: fail("CREDENTIAL_MALFORMED"),
    why: 'tokenBinding is the bare string "unused", not a TokenBinding dictionary',
  },
  // DIFFERS from the vector (expect fail): its clientData carries {"status":"not-supported"}, one of
  // the three valid statuses, and the py_webauthn test it was taken from expects success too.
  "py-reg-fido-u2f-token-binding-bad-status.json": {
    verdict: OK,
    why: 'tokenBinding {"status":"not-supported"} is well-formed, and we do not use token binding',
  },
};

/**
 * knownGap vectors: valid by the W3C spec, refused by @simplewebauthn/server 14.0.3. They must
 * still fail; the day one passes, the library has closed the gap and this table should shrink.
 */
const KNOWN_GAPS: Readonly<Record<string, string>> = {
  "w3c-auth-packed-ed448.json": "SimpleWebAuthn does not support Ed448 (COSE alg -53)",
  "w3c-reg-android-key-es256.json": "SimpleWebAuthn needs the root in the android-key x5c; the vector has only a leaf",
  "w3c-reg-fido-u2f-es256.json": "SimpleWebAuthn requires an all-zero AAGUID for fido-u2f; the vector's is random",
  "w3c-reg-tpm-es256.json": "SimpleWebAuthn only accepts TCG-listed TPM manufacturers; the vector uses id:00000000",
};

/**
 * Registrations that pass only because their source offered an algorithm the service never offers
 * (pubKeyCredParams and every tenant's list are within SUPPORTED_ALGORITHMS): the attestation
 * verifies, then the service refuses the key, since it registers only keys it verifies strictly
 * itself (assertion-key.ts, public-key-checks.ts). Under the service's own algorithm list they
 * would be ALGORITHM_UNSUPPORTED before that.
 */
const UNSUPPORTED_KEY_ALGORITHMS: Readonly<Record<string, string>> = {
  "swa-reg-tpm-sha1-windows-hello.json": "RS1 (COSE alg -65535)",
  "w3c-reg-packed-ed448.json": "Ed448 (COSE alg -53)",
};

const files = readdirSync(vectorDir)
  .filter((f) => f.endsWith(".json"))
  .sort();

function load(file: string): Vector {
  return JSON.parse(readFileSync(path.join(vectorDir, file), "utf8")) as Vector;
}

function list(value: string | readonly string[]): readonly string[] {
  return typeof value === "string" ? [value] : value;
}

/** A tenant has exactly one RP ID. */
function single(rpId: string | readonly string[]): string {
  const [only, ...rest] = list(rpId);
  if (only === undefined || rest.length > 0) throw new Error(`expected one rpId, got ${JSON.stringify(rpId)}`);
  return only;
}

/** The service's default registration policy, overridden by the verifier options the vector's source used. */
function policyOf(v: Vector): RegistrationPolicy {
  const o = v.options;
  const defaults = registrationPolicy(o.requireUserVerification ? "required" : "preferred");
  return {
    algorithms: o.supportedAlgorithmIDs ?? defaults.algorithms,
    requireUserVerification: o.requireUserVerification ?? defaults.requireUserVerification,
    requireUserPresence: o.requireUserPresence ?? defaults.requireUserPresence,
    enforceSafetyNetCts: o.attestationSafetyNetEnforceCTSCheck ?? defaults.enforceSafetyNetCts,
  };
}

/** Runs a vector through the service's verification path. An AuthError is a "fail"; anything else is a bug. */
async function verdictOf(v: Vector): Promise<Verdict> {
  const rp: RelyingParty = { rpId: single(v.rpId), origins: list(v.origin) };
  const credentialJson = JSON.stringify(v.response);
  try {
    if (v.kind === "registration") {
      const { json } = preflightRegistration(credentialJson, rp);
      await verifyRegistration(json, { challenge: v.expectedChallenge, ...rp }, policyOf(v));
    } else {
      if (v.credentialPublicKey === null || v.prevCounter === null) throw new Error("no credential in vector");
      const preflighted = preflightAuthentication(credentialJson, rp);
      const publicKey = isoBase64URL.toBuffer(v.credentialPublicKey);
      const { newCounter } = await verifyAuthentication(
        preflighted,
        { challenge: v.expectedChallenge, ...rp, requireUserVerification: v.options.requireUserVerification ?? false },
        { credentialId: preflighted.json.id, publicKey, assertionKey: parseAssertionKey(publicKey) },
      );
      // In the service the store's conditional update enforces this (CredentialStore.recordAssertion,
      // covered by the DynamoDB integration test): the counter must advance, except 0 → 0.
      if (newCounter === 0 ? v.prevCounter !== 0 : newCounter <= v.prevCounter) {
        throw new AuthError("COUNTER_REGRESSION", "signature counter did not advance");
      }
    }
    return OK;
  } catch (err) {
    if (err instanceof AuthError) return fail(err.reason);
    throw err;
  }
}

/** Every trust-anchor identifier the library knows, so each case's overrides can be undone. */
const ROOT_IDENTIFIERS: readonly RootCertIdentifier[] = [
  "android-key",
  "android-safetynet",
  "apple",
  "fido-u2f",
  "packed",
  "tpm",
  "none",
  "mds",
];
const defaultRoots = new Map<RootCertIdentifier, string[]>();

function isRootIdentifier(identifier: string): identifier is RootCertIdentifier {
  return (ROOT_IDENTIFIERS as readonly string[]).includes(identifier);
}

const originalFetch = globalThis.fetch;

beforeAll(() => {
  for (const identifier of ROOT_IDENTIFIERS) {
    defaultRoots.set(identifier, SettingsService.getRootCertificates({ identifier }));
  }
  // The library fetches CRLs and this machine may be offline: bound every fetch as the service does.
  installFetchDeadline(2000);
});

afterAll(() => {
  globalThis.fetch = originalFetch;
});

afterEach(() => {
  vi.useRealTimers();
  for (const [identifier, certificates] of defaultRoots) {
    SettingsService.setRootCertificates({ identifier, certificates });
  }
});

describe("WebAuthn vectors (../shared/webauthn-vectors)", () => {
  it("finds all 118 vectors, and every table names exactly the vectors of its kind", () => {
    expect(files).toHaveLength(118);
    const vectors = files.map((file) => [file, load(file)] as const);
    const names = (keep: (v: Vector) => boolean) => vectors.filter(([, v]) => keep(v)).map(([file]) => file);
    expect(Object.keys(KNOWN_GAPS).sort()).toEqual(names((v) => v.knownGap !== undefined));
    expect(Object.keys(POLICY).sort()).toEqual(names((v) => v.policyDependent === true));
    expect(Object.keys(UNSUPPORTED_KEY_ALGORITHMS).sort()).toEqual(
      names((v) => v.kind === "registration" && v.expect === "ok" && !SUPPORTED_ALGORITHMS.includes(v.derived?.credentialAlg ?? NaN)),
    );
    expect(Object.keys(FAIL_REASONS).sort()).toEqual(
      names((v) => v.expect === "fail" && !v.policyDependent && v.knownGap === undefined),
    );
  });

  it.each(files)("%s", async (file) => {
    const v = load(file);
    // Certificates expire: verify as of the capture. Only Date is faked, so WebCrypto still resolves.
    if (v.validAt !== null) {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(new Date(v.validAt));
    }
    // Trust anchors the source used instead of the library defaults ([] = no chain check).
    for (const [identifier, certificates] of Object.entries(v.rootCertificates ?? {})) {
      if (!isRootIdentifier(identifier)) throw new Error(`unknown trust-anchor identifier ${identifier}`);
      SettingsService.setRootCertificates({ identifier, certificates });
    }

    const verdict = await verdictOf(v);

    if (v.knownGap !== undefined) {
      expect(KNOWN_GAPS[file], "known gap listed").toBeDefined();
      expect(verdict.ok, `still a known gap: ${KNOWN_GAPS[file]}`).toBe(false);
    } else if (v.policyDependent) {
      expect(verdict, POLICY[file]?.why).toStrictEqual(POLICY[file]?.verdict);
    } else if (UNSUPPORTED_KEY_ALGORITHMS[file]) {
      expect(verdict, UNSUPPORTED_KEY_ALGORITHMS[file]).toStrictEqual(fail("ATTESTATION_INVALID"));
    } else if (v.expect === "ok") {
      expect(verdict).toStrictEqual(OK);
    } else {
      expect(verdict).toStrictEqual({ ok: false, reason: FAIL_REASONS[file] });
    }
  });
});
