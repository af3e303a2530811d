import { describe, expect, it } from "vitest";
import { allAcceptedCredentialsSignal, currentUserDetailsSignal, unknownCredentialSignal } from "../../src/webauthn/signals.js";

/** The Signal API takes exactly these members (WebAuthn Level 3 §5.1.10); anything else is noise to the browser. */
describe("BrowserSignal payloads", () => {
  it("signalUnknownCredential takes {rpId, credentialId}", () => {
    const signal = unknownCredentialSignal("example.com", "AAEC_w");
    expect(signal.method).toBe("signalUnknownCredential");
    expect(JSON.parse(signal.optionsJson)).toStrictEqual({ rpId: "example.com", credentialId: "AAEC_w" });
  });

  it("signalAllAcceptedCredentials takes {rpId, userId, allAcceptedCredentialIds}, the user id being the WebAuthn user handle", () => {
    const signal = allAcceptedCredentialsSignal("example.com", "aGFuZGxl", ["b25l", "dHdv"]);
    expect(signal.method).toBe("signalAllAcceptedCredentials");
    expect(JSON.parse(signal.optionsJson)).toStrictEqual({ rpId: "example.com", userId: "aGFuZGxl", allAcceptedCredentialIds: ["b25l", "dHdv"] });
  });

  it("signalAllAcceptedCredentials with no credential is an empty list, not a missing member", () => {
    expect(JSON.parse(allAcceptedCredentialsSignal("example.com", "aGFuZGxl", []).optionsJson).allAcceptedCredentialIds).toStrictEqual([]);
  });

  it("signalCurrentUserDetails takes {rpId, userId, name, displayName}", () => {
    const signal = currentUserDetailsSignal("example.com", "aGFuZGxl", "ada@example.com", "Ada \"the first\" Lovelace");
    expect(signal.method).toBe("signalCurrentUserDetails");
    expect(JSON.parse(signal.optionsJson)).toStrictEqual({
      rpId: "example.com",
      userId: "aGFuZGxl",
      name: "ada@example.com",
      displayName: "Ada \"the first\" Lovelace",
    });
  });
});
