/**
 * Correctly signed assertions with any field a test chooses (flags, counter, extensions, odd
 * clientData members), for differential tests of verifiers: the SoftAuthenticator is honest by
 * design, this one signs whatever it is given, with the SoftAuthenticator's keys and signatures.
 */
import { createHash, type KeyObject } from "node:crypto";
import { encodeCBOR } from "@levischuck/tiny-cbor";
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { coseKey, generateKeys, signWith, type CoseAlg } from "./soft-authenticator.js";

export interface ForgedCredential {
  readonly alg: CoseAlg;
  readonly privateKey: KeyObject;
  /** COSE_Key bytes, as stored at registration. */
  readonly publicKey: Buffer;
}

export function forgeCredential(alg: CoseAlg): ForgedCredential {
  const { publicKey, privateKey } = generateKeys(alg);
  return { alg, privateKey, publicKey: coseKey(alg, publicKey) };
}

export interface AssertionFields {
  readonly rpId: string;
  readonly flags: number;
  readonly counter: number;
  /** Appends a CBOR extensions map (whether or not flags has ED). */
  readonly extensions: boolean;
  /** clientData members, serialised in this order; undefined members are left out. */
  readonly clientData: Readonly<Record<string, unknown>>;
}

export interface ForgedAssertion {
  readonly authenticatorData: Buffer;
  readonly clientDataJSON: Buffer;
  readonly signature: Buffer;
}

export function forgeAssertion(credential: ForgedCredential, fields: AssertionFields): ForgedAssertion {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(fields.counter);
  const extensions = fields.extensions ? [Buffer.from(encodeCBOR(new Map([["credProtect", 2]])))] : [];
  const authenticatorData = Buffer.concat([
    createHash("sha256").update(fields.rpId).digest(),
    Buffer.from([fields.flags]),
    counter,
    ...extensions,
  ]);
  const clientDataJSON = Buffer.from(JSON.stringify(fields.clientData), "utf8");
  return { authenticatorData, clientDataJSON, signature: signWith(credential.alg, credential.privateKey, authenticatorData, clientDataJSON) };
}

/** The AuthenticationResponseJSON a browser would send for these bytes. */
export function responseJson(credentialId: string, a: ForgedAssertion): AuthenticationResponseJSON {
  return {
    id: credentialId,
    rawId: credentialId,
    type: "public-key",
    response: {
      clientDataJSON: a.clientDataJSON.toString("base64url"),
      authenticatorData: a.authenticatorData.toString("base64url"),
      signature: a.signature.toString("base64url"),
    },
    clientExtensionResults: {},
  };
}
