/**
 * A software WebAuthn authenticator (plus the browser's client-data step) for tests.
 *
 * It makes real key pairs and signatures with node:crypto and real CBOR, so its output is
 * byte-for-byte what a browser + authenticator would send, and @simplewebauthn/server verifies
 * it with no test-only shortcuts. Per-call overrides let attack tests tamper with one field
 * while everything else stays honest.
 */
import { constants, createHash, createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { encodeCBOR, type CBORType } from "@levischuck/tiny-cbor";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";

export type CoseAlg = -7 | -8 | -257 | -35 | -36 | -37; // ES256, EdDSA (Ed25519), RS256, ES384, ES512, PS256

export interface SoftAuthenticatorOptions {
  alg?: CoseAlg; // default -7
  aaguid?: string; // uuid string, default all zeros
  backupEligible?: boolean; // BE flag, default false; when true also BS=true (a synced passkey)
  userVerification?: boolean; // sets UV flag, default true
  counter?: "increment" | "zero"; // default "increment": 0 at registration, +1 per assertion
  attestation?: "none" | "packed-self" | "packed"; // default "none"; "packed" needs attestationCertificate
  /** Full (basic) packed attestation: an ES256 (P-256) attestation key and its x5c chain, leaf first. */
  attestationCertificate?: { readonly privateKey: KeyObject; readonly x5c: readonly Buffer[] };
  transports?: string[]; // default ["internal"]
  /** Extension support, reported when the options ask: credProps rk (default true), prf (default false), largeBlob (default false). */
  discoverable?: boolean;
  prf?: boolean;
  largeBlob?: boolean;
}

/** Per-call tampering knobs used by attack tests; each defaults to the honest value. */
export interface CeremonyOverrides {
  origin?: string; // clientData.origin
  rpId?: string; // rpId hashed into authenticator data
  type?: string; // clientData.type
  challenge?: string; // clientData.challenge
  crossOrigin?: boolean; // clientData.crossOrigin
  counter?: number; // signCount reported in authenticator data; the stored counter is left alone
  userHandle?: string | null; // assertion's userHandle (base64url); null omits it
  credentialId?: string; // (get) stored credential to use, even one allowCredentials does not list
  userPresent?: boolean; // UP flag, default true
  userVerified?: boolean; // UV flag for this call
  backupEligible?: boolean; // BE (and BS) flags for this call, instead of the authenticator's
  attestedCredentialData?: boolean; // (get) sets AT and appends AAGUID, credential id and key, as only a registration should
  /** (create) As create({mediation: "conditional"}): UP=0 and, unless userVerified says otherwise, UV=0 (WebAuthn L3 §5.1.3). */
  conditional?: boolean;
  /** Replaces the clientExtensionResults the authenticator would report (hostile shapes, planted values). */
  clientExtensionResults?: Record<string, unknown>;
  /** (create) The COSE key to attest instead of the generated one: a forged key no private key here matches. */
  credentialPublicKey?: Buffer;
}

/** The extension inputs the soft authenticator acts on, as they appear in options JSON. */
interface ExtensionInputs {
  credProps?: boolean;
  prf?: { eval?: { first: string; second?: string } };
  largeBlob?: { support?: string; read?: boolean };
}

interface StoredCredential {
  id: string; // base64url
  privateKey: KeyObject;
  alg: CoseAlg; // kept per credential because cloneInto may move it to an authenticator with another alg
  rpId: string;
  userHandle: string; // base64url
  counter: number;
  prfSecret: Buffer; // the credential's PRF (hmac-secret) key
  largeBlob: Buffer; // what a largeBlob read returns
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

export class SoftAuthenticator {
  readonly #opts: Required<Omit<SoftAuthenticatorOptions, "attestationCertificate">>;
  /** The last PRF outputs reported (base64url), so tests can look for them where they must never be. */
  readonly prfOutputs: string[] = [];
  readonly #attestationCertificate: SoftAuthenticatorOptions["attestationCertificate"];
  readonly #credentials: StoredCredential[] = [];

  constructor(opts: SoftAuthenticatorOptions = {}) {
    this.#opts = {
      alg: opts.alg ?? -7,
      aaguid: opts.aaguid ?? "00000000-0000-0000-0000-000000000000",
      backupEligible: opts.backupEligible ?? false,
      userVerification: opts.userVerification ?? true,
      counter: opts.counter ?? "increment",
      attestation: opts.attestation ?? "none",
      transports: opts.transports ?? ["internal"],
      discoverable: opts.discoverable ?? true,
      prf: opts.prf ?? false,
      largeBlob: opts.largeBlob ?? false,
    };
    this.#attestationCertificate = opts.attestationCertificate;
    if (this.#opts.attestation === "packed" && !opts.attestationCertificate) throw new Error("packed attestation needs attestationCertificate");
    // A malformed uuid would silently shift every later field of the authenticator data.
    if (!/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(this.#opts.aaguid)) {
      throw new Error(`aaguid is not a uuid: ${this.#opts.aaguid}`);
    }
  }

  /**
   * Acts as navigator.credentials.create() with PublicKeyCredentialCreationOptionsJSON (string or
   * object) and returns what credential.toJSON() gives. Stores the new credential for get().
   */
  create(options: string | object, origin: string, overrides: CeremonyOverrides = {}): RegistrationResponseJSON {
    const opts = parseOptions<PublicKeyCredentialCreationOptionsJSON>(options);
    const rpId = opts.rp.id ?? new URL(origin).hostname; // browsers default rp.id to the origin's host
    const { alg } = this.#opts;

    // Authenticators refuse to make a second credential for an account the RP already knows.
    const excluded = new Set((opts.excludeCredentials ?? []).map((c) => c.id));
    if (this.#credentials.some((c) => excluded.has(c.id))) {
      throw new DOMException("a credential in excludeCredentials is stored here", "InvalidStateError");
    }
    if (!opts.pubKeyCredParams.some((p) => p.type === "public-key" && p.alg === alg)) {
      throw new DOMException(`alg ${alg} is not in pubKeyCredParams`, "NotSupportedError");
    }

    const { publicKey, privateKey } = generateKeys(alg);
    const credId = randomBytes(32);
    const flagOverrides = overrides.conditional ? { userPresent: false, userVerified: false, ...overrides } : overrides;
    const authData = this.#authData(overrides.rpId ?? rpId, FLAG_AT, overrides.counter ?? 0, flagOverrides, attestedCredentialData(this.#opts.aaguid, credId, overrides.credentialPublicKey ?? coseKey(alg, publicKey)));
    const clientDataJSON = clientData("webauthn.create", opts.challenge, origin, overrides);

    const attStmt = new Map<string, CBORType>();
    if (this.#opts.attestation === "packed-self") {
      // Self attestation: signed by the credential key itself, so there is no x5c chain.
      attStmt.set("alg", alg);
      attStmt.set("sig", signWith(alg, privateKey, authData, clientDataJSON));
    } else if (this.#attestationCertificate) {
      // Full attestation: signed by the model's attestation key, which its x5c certifies.
      attStmt.set("alg", -7);
      attStmt.set("sig", signWith(-7, this.#attestationCertificate.privateKey, authData, clientDataJSON));
      attStmt.set("x5c", this.#attestationCertificate.x5c.map((der) => new Uint8Array(der)));
    }
    const attestationObject = encodeCBOR(
      new Map<string, CBORType>([
        ["fmt", this.#opts.attestation === "none" ? "none" : "packed"],
        ["attStmt", attStmt],
        ["authData", authData],
      ]),
    );

    const id = credId.toString("base64url");
    const stored: StoredCredential = { id, privateKey, alg, rpId, userHandle: opts.user.id, counter: 0, prfSecret: randomBytes(32), largeBlob: randomBytes(32) };
    this.#credentials.push(stored);
    return {
      id,
      rawId: id,
      type: "public-key",
      response: {
        clientDataJSON: clientDataJSON.toString("base64url"),
        attestationObject: Buffer.from(attestationObject).toString("base64url"),
        authenticatorData: authData.toString("base64url"),
        transports: this.#opts.transports,
        publicKeyAlgorithm: alg,
        publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64url"),
      },
      clientExtensionResults: overrides.clientExtensionResults ?? this.#createOutputs(opts.extensions as ExtensionInputs | undefined, stored),
      authenticatorAttachment: this.#attachment(),
    };
  }

  /**
   * Acts as navigator.credentials.get() with PublicKeyCredentialRequestOptionsJSON (string or
   * object) and returns what credential.toJSON() gives.
   */
  get(options: string | object, origin: string, overrides: CeremonyOverrides = {}): AuthenticationResponseJSON {
    const opts = parseOptions<PublicKeyCredentialRequestOptionsJSON>(options);
    const rpId = opts.rpId ?? new URL(origin).hostname;
    const cred = this.#pick(rpId, opts.allowCredentials?.map((c) => c.id) ?? [], overrides.credentialId);

    if (this.#opts.counter === "increment") cred.counter += 1;
    const attested = overrides.attestedCredentialData
      ? attestedCredentialData(this.#opts.aaguid, Buffer.from(cred.id, "base64url"), coseKey(cred.alg, createPublicKey(cred.privateKey)))
      : [];
    const authData = this.#authData(overrides.rpId ?? rpId, attested.length ? FLAG_AT : 0, overrides.counter ?? cred.counter, overrides, attested);
    const clientDataJSON = clientData("webauthn.get", opts.challenge, origin, overrides);
    const userHandle = overrides.userHandle === undefined ? cred.userHandle : overrides.userHandle;

    return {
      id: cred.id,
      rawId: cred.id,
      type: "public-key",
      response: {
        clientDataJSON: clientDataJSON.toString("base64url"),
        authenticatorData: authData.toString("base64url"),
        signature: signWith(cred.alg, cred.privateKey, authData, clientDataJSON).toString("base64url"),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: overrides.clientExtensionResults ?? this.#getOutputs(opts.extensions as ExtensionInputs | undefined, cred),
      authenticatorAttachment: this.#attachment(),
    };
  }

  /** Stored credential ids (base64url). */
  credentialIds(): string[] {
    return this.#credentials.map((c) => c.id);
  }

  /** Copies a stored credential (keys and counter) into another authenticator: a cloned key, for counter tests. */
  cloneInto(other: SoftAuthenticator, credentialId: string): void {
    const cred = this.#credentials.find((c) => c.id === credentialId);
    if (!cred) throw new Error(`no stored credential ${credentialId}`);
    other.#credentials.push({ ...cred });
  }

  /** What a browser reports for the extensions a create() asked for. */
  #createOutputs(ext: ExtensionInputs | undefined, cred: StoredCredential): Record<string, unknown> {
    const { discoverable, prf, largeBlob } = this.#opts;
    return {
      ...(ext?.credProps ? { credProps: { rk: discoverable } } : {}),
      ...(ext?.prf ? { prf: { enabled: prf, ...(prf && ext.prf.eval ? { results: this.#prf(cred, ext.prf.eval) } : {}) } } : {}),
      ...(ext?.largeBlob?.support ? { largeBlob: { supported: largeBlob } } : {}),
    };
  }

  /** What a browser reports for the extensions a get() asked for: PRF results and a largeBlob read. */
  #getOutputs(ext: ExtensionInputs | undefined, cred: StoredCredential): Record<string, unknown> {
    const { prf, largeBlob } = this.#opts;
    return {
      ...(ext?.prf?.eval && prf ? { prf: { results: this.#prf(cred, ext.prf.eval) } } : {}),
      ...(ext?.largeBlob?.read && largeBlob ? { largeBlob: { blob: cred.largeBlob.toString("base64url") } } : {}),
    };
  }

  /** PRF as CTAP2 hmac-secret computes it: HMAC-SHA-256 over SHA-256("WebAuthn PRF" ‖ 0x00 ‖ salt). */
  #prf(cred: StoredCredential, salts: { first: string; second?: string }): { first: string; second?: string } {
    const evaluate = (salt: string) => {
      const input = sha256(Buffer.concat([Buffer.from("WebAuthn PRF\0"), Buffer.from(salt, "base64url")]));
      const output = createHmac("sha256", cred.prfSecret).update(input).digest("base64url");
      this.prfOutputs.push(output);
      return output;
    };
    return { first: evaluate(salts.first), ...(salts.second === undefined ? {} : { second: evaluate(salts.second) }) };
  }

  #pick(rpId: string, allowed: string[], forcedId: string | undefined): StoredCredential {
    const cred = forcedId
      ? this.#credentials.find((c) => c.id === forcedId)
      : this.#credentials.find((c) => c.rpId === rpId && (allowed.length === 0 || allowed.includes(c.id)));
    if (!cred) throw new DOMException("no matching credential", "NotAllowedError");
    return cred;
  }

  #authData(rpId: string, extraFlags: number, counter: number, o: CeremonyOverrides, attested: Buffer[]): Buffer {
    let flags = extraFlags;
    if (o.userPresent ?? true) flags |= FLAG_UP;
    if (o.userVerified ?? this.#opts.userVerification) flags |= FLAG_UV;
    if (o.backupEligible ?? this.#opts.backupEligible) flags |= FLAG_BE | FLAG_BS;
    const signCount = Buffer.alloc(4);
    signCount.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), signCount, ...attested]);
  }

  #attachment(): "platform" | "cross-platform" {
    return this.#opts.transports.includes("internal") ? "platform" : "cross-platform";
  }
}

/** AAGUID ‖ credential id length ‖ credential id ‖ COSE key: the attested credential data of a registration. */
function attestedCredentialData(aaguid: string, credId: Buffer, cose: Buffer): Buffer[] {
  const credIdLen = Buffer.alloc(2);
  credIdLen.writeUInt16BE(credId.length);
  return [Buffer.from(aaguid.replaceAll("-", ""), "hex"), credIdLen, credId, cose];
}

function parseOptions<T>(options: string | object): T {
  return (typeof options === "string" ? JSON.parse(options) : options) as T;
}

function sha256(data: string | Buffer): Buffer {
  return createHash("sha256").update(data).digest();
}

function clientData(type: string, challenge: string, origin: string, o: CeremonyOverrides): Buffer {
  // Key order matches what browsers serialise.
  return Buffer.from(
    JSON.stringify({
      type: o.type ?? type,
      challenge: o.challenge ?? challenge,
      origin: o.origin ?? origin,
      crossOrigin: o.crossOrigin ?? false,
    }),
    "utf8",
  );
}

/** The curve, COSE crv and hash of each ECDSA algorithm. */
const ECDSA: Partial<Record<CoseAlg, { readonly curve: string; readonly crv: number; readonly hash: string }>> = {
  [-7]: { curve: "P-256", crv: 1, hash: "sha256" },
  [-35]: { curve: "P-384", crv: 2, hash: "sha384" },
  [-36]: { curve: "P-521", crv: 3, hash: "sha512" },
};

export function generateKeys(alg: CoseAlg): { publicKey: KeyObject; privateKey: KeyObject } {
  const ecdsa = ECDSA[alg];
  if (ecdsa) return generateKeyPairSync("ec", { namedCurve: ecdsa.curve });
  return alg === -8 ? generateKeyPairSync("ed25519") : generateKeyPairSync("rsa", { modulusLength: 2048 });
}

/** COSE_Key: a CBOR map with integer labels, hence a Map rather than an object. */
export function coseKey(alg: CoseAlg, publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  const b = (v: string | undefined) => Buffer.from(v!, "base64url"); // always present for these key types
  const ecdsa = ECDSA[alg];
  const entries: [number, CBORType][] = ecdsa
    ? [[1, 2], [3, alg], [-1, ecdsa.crv], [-2, b(jwk.x)], [-3, b(jwk.y)]] // EC2
    : alg === -8
      ? [[1, 1], [3, -8], [-1, 6], [-2, b(jwk.x)]] // OKP, Ed25519
      : [[1, 3], [3, alg], [-1, b(jwk.n)], [-2, b(jwk.e)]]; // RSA
  return Buffer.from(encodeCBOR(new Map(entries)));
}

/** WebAuthn signs authData || SHA-256(clientDataJSON); ECDSA signatures are DER, node's default. */
export function signWith(alg: CoseAlg, key: KeyObject, authData: Buffer, clientDataJSON: Buffer): Buffer {
  const data = Buffer.concat([authData, sha256(clientDataJSON)]);
  if (alg === -8) return sign(null, data, key);
  if (alg === -37) return sign("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return sign(ECDSA[alg]?.hash ?? "sha256", data, key);
}
