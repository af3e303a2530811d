import { describe, expect, it } from "vitest";
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
      extensions: { credProps: true },
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
