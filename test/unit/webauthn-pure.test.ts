import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { assuranceOf } from "../../src/webauthn/assurance.js";
import { decoyCredentials } from "../../src/webauthn/decoy-credentials.js";
import { installFetchDeadline } from "../../src/webauthn/fetch-deadline.js";
import { creationOptions, requestOptions } from "../../src/webauthn/options.js";

describe("options", () => {
  it("builds creation options in the W3C JSON shape", () => {
    const options = creationOptions({
      rpId: "example.com",
      rpName: "Example",
      challenge: "Y2hhbGxlbmdl",
      userHandle: "aGFuZGxl",
      userName: "a@example.com",
      displayName: "A",
      timeoutMs: 60_000,
      algorithms: [-8, -7],
      excludeCredentials: [{ id: "AAAA", transports: [] }],
      attachment: "platform",
      residentKey: "required",
      userVerification: "required",
      attestation: "none",
    });
    expect(options).toEqual({
      rp: { id: "example.com", name: "Example" },
      user: { id: "aGFuZGxl", name: "a@example.com", displayName: "A" },
      challenge: "Y2hhbGxlbmdl",
      pubKeyCredParams: [
        { alg: -8, type: "public-key" },
        { alg: -7, type: "public-key" },
      ],
      timeout: 60_000,
      excludeCredentials: [{ id: "AAAA", type: "public-key" }],
      authenticatorSelection: {
        authenticatorAttachment: "platform",
        residentKey: "required",
        requireResidentKey: true,
        userVerification: "required",
      },
      attestation: "none",
      extensions: { credProps: true },
    });
  });

  it("builds discoverable request options with an empty allowCredentials", () => {
    const options = requestOptions({ rpId: "example.com", challenge: "c", timeoutMs: 1000, allowCredentials: [], userVerification: "preferred" });
    expect(options.allowCredentials).toEqual([]);
  });
});

describe("assuranceOf", () => {
  it.each([
    [{ backupEligible: false, userVerified: true }, ["hwk", "user", "mfa"], "phrh"],
    [{ backupEligible: true, userVerified: true }, ["swk", "user", "mfa"], "phr"],
    [{ backupEligible: false, userVerified: false }, ["hwk", "user"], "phrh"],
  ])("%j → amr %j, acr %s", (flags, amr, acr) => {
    expect(assuranceOf(flags)).toEqual({ amr, acr });
  });
});

describe("decoyCredentials", () => {
  it("is stable per user and differs between users and secrets", () => {
    const secret = new Uint8Array(32).fill(7);
    expect(decoyCredentials(secret, "t", "u1")).toEqual(decoyCredentials(secret, "t", "u1"));
    expect(decoyCredentials(secret, "t", "u1")[0]!.id).not.toBe(decoyCredentials(secret, "t", "u2")[0]!.id);
    expect(decoyCredentials(new Uint8Array(32), "t", "u1")[0]!.id).not.toBe(decoyCredentials(secret, "t", "u1")[0]!.id);
  });
});

describe("installFetchDeadline", () => {
  const original = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = original;
  });

  it("bounds a fetch to a server that never answers (CRL fetches on an offline machine)", async () => {
    const server = createServer(() => {
      /* never responds */
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    installFetchDeadline(200);
    const started = Date.now();
    await expect(fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/crl`)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    server.closeAllConnections();
    server.close();
  });
});
