import { Code, ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import type { Reason } from "../../src/errors.js";
import { SoftAuthenticator, type CeremonyOverrides } from "./soft-authenticator.js";
import { ORIGIN, type TestService } from "./service.js";

/** Registers a new passkey for `userId` (in `tenant`, "" the default) over Connect and returns its credential id. */
export async function register(
  svc: TestService,
  authenticator: SoftAuthenticator,
  userId: string,
  overrides?: CeremonyOverrides,
  tenant = "",
): Promise<string> {
  const begin = await svc.connect.beginRegistration({ tenant, userId, userName: `${userId}@example.com` });
  const credential = authenticator.create(begin.optionsJson, ORIGIN, overrides);
  const done = await svc.connect.finishRegistration({ tenant, credentialJson: JSON.stringify(credential) });
  return done.credential!.credentialId;
}

/** Begins a sign-in (in `tenant`, "" the default) and lets the authenticator answer; returns the assertion JSON for Finish. */
export async function assertion(
  svc: TestService,
  authenticator: SoftAuthenticator,
  userId?: string,
  overrides?: CeremonyOverrides,
  tenant = "",
): Promise<string> {
  const begin = await svc.connect.beginAuthentication({ tenant, userId: userId ?? "" });
  return JSON.stringify(authenticator.get(begin.optionsJson, ORIGIN, overrides));
}

/** Asserts that `call` fails with `code` and, when given, the google.rpc.ErrorInfo `reason`. */
export async function expectRpcError(call: Promise<unknown>, code: Code, reason?: Reason): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err, "the call should have failed").toBeInstanceOf(ConnectError);
  const info = err!.findDetails(ErrorInfoSchema)[0];
  expect({ code: Code[err!.code], reason: info?.reason }).toEqual({
    code: Code[code],
    reason: reason ?? info?.reason,
  });
  expect(info?.domain).toBe("dynauthn.dev");
  return err!;
}
