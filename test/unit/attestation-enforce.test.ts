/**
 * Real attestations (../shared/webauthn-vectors) under a `direct` tenant policy, checked against a
 * test FIDO MDS BLOB that went through the real BLOB verification (signed by a test root made
 * here). Each entry's attestationRootCertificates is the vector's trust anchor: the root its
 * source used (`rootCertificates`), the Yubico U2F root for YubiKeys (test/fixtures, from
 * https://developers.yubico.com/PKI/yubico-ca-certs.txt), or, for the TPM, the top CA of the
 * vector's own x5c (the Microsoft TPM root is not in the vectors; RFC 5280 anchors need not be
 * self-signed).
 */
import type { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SettingsService, type RootCertIdentifier } from "@simplewebauthn/server";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { attestationChain } from "../../src/attestation/attestation-chain.js";
import { certificate } from "../../src/attestation/cert-chain.js";
import { enforceAttestationPolicy } from "../../src/attestation/enforce.js";
import { type MdsCatalog, verifyMdsBlob } from "../../src/attestation/mds-blob.js";
import { pemCertificates } from "../../src/attestation/mds-file.js";
import { attestationPolicySchema } from "../../src/attestation/policy.js";
import { AuthError, type Reason } from "../../src/errors.js";
import { installFetchDeadline } from "../../src/webauthn/fetch-deadline.js";
import { preflightRegistration } from "../../src/webauthn/preflight.js";
import { registrationPolicy, verifyRegistration, type VerifiedRegistration } from "../../src/webauthn/verify-registration.js";
import { mdsEntry, mdsSigningPki, signBlob } from "../support/attestation-pki.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const vectorDir = path.resolve(here, "../../../shared/webauthn-vectors");
const yubicoRoot = pemCertificates(readFileSync(path.resolve(here, "../fixtures/yubico-u2f-root-ca-serial-457200631.pem"), "utf8"));

interface Vector {
  readonly rpId: string;
  readonly origin: string | readonly string[];
  readonly expectedChallenge: string;
  readonly response: unknown;
  readonly options: { readonly requireUserVerification?: boolean };
  readonly validAt: string | null;
  readonly rootCertificates?: Readonly<Record<string, string[]>> | null;
}

const load = (file: string) => JSON.parse(readFileSync(path.join(vectorDir, file), "utf8")) as Vector;

type AnchorOf = (v: Vector, verified: VerifiedRegistration) => X509Certificate[];
const sourceRoots: AnchorOf = (v) => Object.values(v.rootCertificates ?? {}).flat().map((pem) => certificate(pem));
const topOfChain: AnchorOf = (_, verified) => attestationChain(verified.attestationObject).slice(-1);

/** Real authenticators with an attestation certificate, and where their trust anchor comes from. */
const TRUSTED: Readonly<Record<string, AnchorOf>> = {
  "yubico-reg-yubi-key5.json": () => yubicoRoot,
  "yubico-reg-yubikey-bio-5-5-6.json": () => yubicoRoot,
  "yubico-reg-windows-hello-tpm.json": topOfChain,
  "swa-reg-android-key-pixel8a-2025.json": sourceRoots,
  "swa-reg-safetynet-2019.json": sourceRoots,
  "w3c-reg-apple-es256.json": sourceRoots,
};
/** Registrations without an attestation certificate: none (all-zero AAGUID) and packed self attestation. */
const NO_CERTIFICATE = ["py-reg-none.json", "w3c-reg-packed-self-es256.json"];

const DIRECT = attestationPolicySchema.parse({ conveyance: "direct" });
const NONE = attestationPolicySchema.parse({});

const originalFetch = globalThis.fetch;
const defaultRoots = new Map<RootCertIdentifier, string[]>();

/** The vector verified as the service does (preflight, then the library with the source's roots), as of its capture. */
async function verified(file: string): Promise<{ v: Vector; registration: VerifiedRegistration; at: Date }> {
  const v = load(file);
  // No certificate involved (validAt null): verify as of now.
  const at = v.validAt ? new Date(v.validAt) : new Date();
  for (const [identifier, certificates] of Object.entries(v.rootCertificates ?? {})) {
    const id = identifier as RootCertIdentifier;
    if (!defaultRoots.has(id)) defaultRoots.set(id, SettingsService.getRootCertificates({ identifier: id }));
    SettingsService.setRootCertificates({ identifier: id, certificates });
  }
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(at);
  try {
    const origins = typeof v.origin === "string" ? [v.origin] : v.origin;
    const { json } = preflightRegistration(JSON.stringify(v.response), { rpId: v.rpId, origins });
    const policy = registrationPolicy(v.options.requireUserVerification ? "required" : "preferred");
    return { v, registration: await verifyRegistration(json, { challenge: v.expectedChallenge, rpId: v.rpId, origins }, policy), at };
  } finally {
    vi.useRealTimers();
  }
}

let pki: Awaited<ReturnType<typeof mdsSigningPki>>;
beforeAll(async () => {
  installFetchDeadline(2000); // the library may fetch CRLs; this machine is offline
  pki = await mdsSigningPki();
});
afterAll(() => {
  globalThis.fetch = originalFetch;
});
afterEach(() => {
  for (const [identifier, certificates] of defaultRoots) SettingsService.setRootCertificates({ identifier, certificates });
});

/** A test BLOB with these entries, verified by the real code as of `at`. */
async function catalogOf(entries: readonly Record<string, unknown>[], at: Date): Promise<MdsCatalog> {
  const blob = await signBlob({ no: 7, nextUpdate: "2060-01-01", entries }, pki.signer, pki.chain);
  return verifyMdsBlob(blob, [pki.root.cert], at);
}

function reasonOf(run: () => void): Reason | "accepted" {
  try {
    run();
    return "accepted";
  } catch (err) {
    if (err instanceof AuthError) return err.reason;
    throw err;
  }
}

describe("real attestations under a direct tenant with a test MDS BLOB", () => {
  it.each(Object.keys(TRUSTED))("%s: trusted with its entry; refused without it, when REVOKED or compromised, or with another anchor", async (file) => {
    const { v, registration, at } = await verified(file);
    const anchors = TRUSTED[file]!(v, registration);
    expect(anchors.length).toBeGreaterThan(0);
    const { aaguid } = registration;
    const check = async (entries: Record<string, unknown>[], policy = DIRECT) => {
      const catalog = await catalogOf(entries, at);
      return reasonOf(() => enforceAttestationPolicy(policy, registration, catalog, at));
    };

    expect(await check([mdsEntry(aaguid, "model", anchors)])).toBe("accepted");
    expect(await check([])).toBe("ATTESTATION_UNTRUSTED");
    expect(await check([mdsEntry(aaguid, "model", anchors, ["FIDO_CERTIFIED_L1", "REVOKED"])])).toBe("AUTHENTICATOR_REVOKED");
    expect(await check([mdsEntry(aaguid, "model", anchors, ["ATTESTATION_KEY_COMPROMISE"])])).toBe("AUTHENTICATOR_REVOKED");
    expect(await check([mdsEntry(aaguid, "model", [pki.root.cert])])).toBe("ATTESTATION_UNTRUSTED");
    // Without a policy that verifies, the same registration needs no metadata at all.
    expect(reasonOf(() => enforceAttestationPolicy(NONE, registration, undefined, at))).toBe("accepted");
  });

  it.each(NO_CERTIFICATE)("%s: no attestation certificate, so refused under direct even with an entry", async (file) => {
    const { registration, at } = await verified(file);
    const catalog = await catalogOf([mdsEntry(registration.aaguid, "model", [pki.root.cert])], at);
    expect(reasonOf(() => enforceAttestationPolicy(DIRECT, registration, catalog, at))).toBe("ATTESTATION_UNTRUSTED");
  });
});
