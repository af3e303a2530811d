import { describe, expect, it } from "vitest";
import { AuthError } from "../../src/errors.js";
import { MAX_EXTENSIONS_JSON_BYTES } from "../../src/field-limits.js";
import { authenticationExtensions, registrationExtensionFacts, registrationExtensions } from "../../src/webauthn/extensions.js";
import { parseAuthenticationJson, parseRegistrationJson } from "../../src/webauthn/credential-json.js";
import { requestOptions } from "../../src/webauthn/options.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

const salt = (bytes: number) => Buffer.alloc(bytes, 7).toString("base64url");

/** The refusal `parse(json)` throws: FIELD_INVALID naming extensions_json. */
function refusal(parse: (json: string) => unknown, json: string): AuthError {
  let thrown: unknown;
  try {
    parse(json);
  } catch (err) {
    thrown = err;
  }
  expect(thrown, json.slice(0, 80)).toBeInstanceOf(AuthError);
  const err = thrown as AuthError;
  expect({ reason: err.reason, field: err.metadata.field }).toEqual({ reason: "FIELD_INVALID", field: "extensions_json" });
  return err;
}

describe("registration extension inputs", () => {
  it.each([
    ["", { credProps: true }],
    ["{}", { credProps: true }],
    ['{"credProps":true}', { credProps: true }],
    ['{"prf":{}}', { credProps: true, prf: {} }],
    [`{"prf":{"eval":{"first":"${salt(32)}"}}}`, { credProps: true, prf: { eval: { first: salt(32) } } }],
    [`{"prf":{"eval":{"first":"${salt(64)}","second":""}}}`, { credProps: true, prf: { eval: { first: salt(64), second: "" } } }],
    ['{"largeBlob":{"support":"required"}}', { credProps: true, largeBlob: { support: "required" } }],
    ['{"largeBlob":{"support":"preferred"}}', { credProps: true, largeBlob: { support: "preferred" } }],
    ['{"credProps":true,"prf":{},"largeBlob":{"support":"preferred"}}', { credProps: true, prf: {}, largeBlob: { support: "preferred" } }],
  ])("accepts %s, always with credProps", (json, expected) => {
    expect(registrationExtensions(json)).toEqual(expected);
  });

  it.each([
    ["not JSON", "{"],
    ["not an object", "[]"],
    ["null", "null"],
    ["a string", '"credProps"'],
    ["an unknown extension", '{"hmacCreateSecret":true}'],
    ["appid (authentication only, U2F)", '{"appid":"https://example.com"}'],
    ["credProps false", '{"credProps":false}'],
    ["credProps as a string", '{"credProps":"true"}'],
    ["prf as true", '{"prf":true}'],
    ["prf with an unknown member", '{"prf":{"evalByCredential":{}}}'],
    ["a salt that is not base64url", '{"prf":{"eval":{"first":"a+b/"}}}'],
    ["a padded salt", '{"prf":{"eval":{"first":"AAAA=="}}}'],
    ["a non-canonical salt", '{"prf":{"eval":{"first":"AB"}}}'],
    ["a salt of 65 bytes", `{"prf":{"eval":{"first":"${salt(65)}"}}}`],
    ["a second salt of 65 bytes", `{"prf":{"eval":{"first":"","second":"${salt(65)}"}}}`],
    ["a salt as bytes", '{"prf":{"eval":{"first":[1,2,3]}}}'],
    ["eval without first", '{"prf":{"eval":{"second":"AAAA"}}}'],
    ["eval with a third salt", '{"prf":{"eval":{"first":"AAAA","third":"AAAA"}}}'],
    ["largeBlob support discouraged", '{"largeBlob":{"support":"discouraged"}}'],
    ["largeBlob write at registration", '{"largeBlob":{"support":"required","write":"AAAA"}}'],
    ["largeBlob read at registration", '{"largeBlob":{"read":true}}'],
    ["a prototype key", '{"__proto__":{"credProps":true}}'],
  ])("refuses %s", (_, json) => {
    refusal(registrationExtensions, json);
  });

  it("refuses more than its size limit before parsing, and names the limit", () => {
    const big = JSON.stringify({ credProps: true, pad: "x".repeat(MAX_EXTENSIONS_JSON_BYTES) });
    expect(refusal(registrationExtensions, big).message).toContain(`at most ${MAX_EXTENSIONS_JSON_BYTES} bytes`);
  });

  it("does not quote the offending value in its message", () => {
    expect(refusal(registrationExtensions, '{"prf":{"eval":{"first":"SECRET+VALUE"}}}').message).not.toContain("SECRET");
  });
});

describe("authentication extension inputs", () => {
  it.each([
    ["", {}],
    ["{}", {}],
    [`{"prf":{"eval":{"first":"${salt(32)}"}}}`, { prf: { eval: { first: salt(32) } } }],
    [`{"prf":{"eval":{"first":"${salt(32)}","second":"${salt(16)}"}}}`, { prf: { eval: { first: salt(32), second: salt(16) } } }],
    ['{"largeBlob":{"read":true}}', { largeBlob: { read: true } }],
  ])("accepts %s", (json, expected) => {
    expect(authenticationExtensions(json)).toEqual(expected);
  });

  it.each([
    ["credProps (registration only)", '{"credProps":true}'],
    ["prf without eval", '{"prf":{}}'],
    ["prf evalByCredential", `{"prf":{"evalByCredential":{"AAAA":{"first":"${salt(32)}"}}}}`],
    ["prf eval and evalByCredential", `{"prf":{"eval":{"first":""},"evalByCredential":{}}}`],
    ["a salt of 65 bytes", `{"prf":{"eval":{"first":"${salt(65)}"}}}`],
    ["largeBlob read false", '{"largeBlob":{"read":false}}'],
    ["largeBlob write (the blob would pass through the service)", '{"largeBlob":{"write":"AAAA"}}'],
    ["largeBlob support (registration only)", '{"largeBlob":{"support":"required"}}'],
    ["an unknown extension", '{"uvm":true}'],
    ["an array", "[{}]"],
  ])("refuses %s", (_, json) => {
    refusal(authenticationExtensions, json);
  });

  it("go into the request options only when there are some", () => {
    const base = { rpId: "example.com", challenge: "c", timeoutMs: 1000, allowCredentials: [], userVerification: "preferred" as const };
    expect(requestOptions({ ...base, extensions: {} })).not.toHaveProperty("extensions");
    expect(requestOptions({ ...base, extensions: { largeBlob: { read: true } } }).extensions).toEqual({ largeBlob: { read: true } });
  });
});

describe("registration extension outputs", () => {
  it("reads credProps.rk, prf.enabled and largeBlob.supported", () => {
    expect(registrationExtensionFacts({ credProps: { rk: true }, prf: { enabled: false }, largeBlob: { supported: true } })).toEqual({
      discoverable: true,
      prfEnabled: false,
      largeBlobSupported: true,
    });
  });

  it.each([
    ["nothing reported", {}],
    ["not an object", "yes"],
    ["null", null],
    ["an array", [{ credProps: { rk: true } }]],
    ["flags of the wrong type", { credProps: { rk: "true" }, prf: { enabled: 1 }, largeBlob: { supported: null } }],
    ["members of the wrong type", { credProps: true, prf: [true], largeBlob: "supported" }],
    ["flags only inherited", { credProps: Object.create({ rk: true }) }],
  ])("counts %s as not reported rather than refusing", (_, results) => {
    expect(registrationExtensionFacts(results)).toEqual({ discoverable: undefined, prfEnabled: undefined, largeBlobSupported: undefined });
  });

  it("are all a parsed registration keeps: PRF results and blobs are dropped at the parse", () => {
    const authenticator = new SoftAuthenticator({ prf: true, largeBlob: true });
    const options = {
      rp: { id: "localhost", name: "t" },
      user: { id: "aGFuZGxl", name: "u", displayName: "u" },
      challenge: "Y2hhbGxlbmdl",
      pubKeyCredParams: [{ alg: -7, type: "public-key" }],
      extensions: { credProps: true, prf: { eval: { first: salt(32) } }, largeBlob: { support: "preferred" } },
    };
    const created = authenticator.create(options, "http://localhost:8080");
    expect(created.clientExtensionResults).toMatchObject({ prf: { enabled: true, results: { first: authenticator.prfOutputs[0] } } });
    const parsed = parseRegistrationJson(JSON.stringify(created));
    expect(parsed.extensions).toEqual({ discoverable: true, prfEnabled: true, largeBlobSupported: true });
    expect(parsed.json.clientExtensionResults).toEqual({});
    expect(JSON.stringify(parsed)).not.toContain(authenticator.prfOutputs[0]);

    const asserted = authenticator.get({ challenge: "Y2hhbGxlbmdl", rpId: "localhost", extensions: { prf: { eval: { first: salt(8) } }, largeBlob: { read: true } } }, "http://localhost:8080");
    expect(asserted.clientExtensionResults).toHaveProperty("largeBlob.blob");
    const parsedAssertion = parseAuthenticationJson(JSON.stringify(asserted));
    expect(parsedAssertion.json.clientExtensionResults).toEqual({});
    expect(JSON.stringify(parsedAssertion.json)).not.toContain(authenticator.prfOutputs[1]);
  });
});
