import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AuthError } from "../../src/errors.js";
import { codeOf, toConnectError } from "../../src/rpc/connect-error.js";
import { BrowserSignalSchema, ErrorReason } from "../../src/gen/authn/v1/auth_service_pb.js";
import { unknownCredentialSignal } from "../../src/webauthn/signals.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { fromLibraryError } from "../../src/webauthn/library-errors.js";

describe("toConnectError", () => {
  it("carries the reason and domain in google.rpc.ErrorInfo", () => {
    const err = toConnectError(new AuthError("COUNTER_REGRESSION", "counter did not advance"));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.findDetails(ErrorInfoSchema)[0]).toMatchObject({ reason: "COUNTER_REGRESSION", domain: "dynauthn.dev" });
  });

  it("carries a Signal API call as an authn.v1.BrowserSignal detail beside the ErrorInfo, and none when the error has none", () => {
    const signal = unknownCredentialSignal("example.com", "AAEC");
    const err = toConnectError(new AuthError("CREDENTIAL_UNKNOWN", "unknown credential", {}, undefined, signal));
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("CREDENTIAL_UNKNOWN");
    expect(err.findDetails(BrowserSignalSchema).map((s) => ({ method: s.method, optionsJson: s.optionsJson }))).toEqual([signal]);
    expect(toConnectError(new AuthError("CREDENTIAL_UNKNOWN", "unknown credential")).findDetails(BrowserSignalSchema)).toEqual([]);
  });

  it("turns unknown errors into a bare INTERNAL without their message or stack", () => {
    const err = toConnectError(new TypeError("secret internals at /work/main/src/x.ts:1"));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error");
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("INTERNAL");
  });

  it("maps every contract reason to a code", () => {
    const reasons = Object.keys(ErrorReason).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
    for (const reason of reasons) {
      expect(codeOf(reason as never), reason).toBeTypeOf("number");
    }
    expect(codeOf("STORE_UNAVAILABLE")).toBe(Code.Unavailable);
    expect(codeOf("STORE_THROTTLED")).toBe(Code.ResourceExhausted);
    expect(codeOf("CREDENTIAL_EXISTS")).toBe(Code.AlreadyExists);
  });
});

describe("fromLibraryError", () => {
  it.each([
    ["User verification was required, but user could not be verified", "USER_VERIFICATION_REQUIRED"],
    ["User presence was required, but user was not present", "USER_PRESENCE_REQUIRED"],
    ['Unexpected public key alg "-7", expected one of "-8"', "ALGORITHM_UNSUPPORTED"],
    ['Unexpected authentication response origin "https://evil", expected "x"', "ORIGIN_MISMATCH"],
    ["Unexpected RP ID hash", "RP_ID_MISMATCH"],
    ["Public key had invalid alg -53 (OKP)", "ALGORITHM_UNSUPPORTED"],
    ["Certificate is not yet valid or expired", "ATTESTATION_INVALID"],
  ])("maps %j to %s without echoing the message", (message, reason) => {
    const err = fromLibraryError(new Error(message), "ATTESTATION_INVALID");
    expect(err.reason).toBe(reason);
    expect(err.message).not.toContain("evil");
  });
});
