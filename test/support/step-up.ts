import { createHash } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Operation, VerifyOperationRequestSchema } from "../../src/gen/authn/v1/step_up_pb.js";
import { assertion, register } from "./ceremonies.js";
import type { TestService } from "./service.js";
import { SoftAuthenticator, type SoftAuthenticatorOptions } from "./soft-authenticator.js";

export type VerifyRequest = MessageInitShape<typeof VerifyOperationRequestSchema>;

/** "Transfer `amount` EUR to X": the payload digest is SHA-256 of its canonical JSON. */
export function transfer(amount: number): Omit<Operation, "$typeName"> {
  return {
    name: "payments.transfer",
    resource: "accounts/123",
    payloadDigest: createHash("sha256").update(JSON.stringify({ amount, to: "X" })).digest(),
    displayText: `Transfer ${amount} EUR to X`,
  };
}

export interface SignedInUser {
  readonly userId: string;
  readonly authenticator: SoftAuthenticator;
  readonly credentialId: string;
  readonly sessionToken: string;
}

/** Registers a passkey for `userId` (in `tenant`, "" the default) and signs in with it over Connect. */
export async function signedInUser(svc: TestService, userId: string, opts?: SoftAuthenticatorOptions, tenant = ""): Promise<SignedInUser> {
  const authenticator = new SoftAuthenticator(opts);
  const credentialId = await register(svc, authenticator, userId, undefined, tenant);
  const done = await svc.connect.finishAuthentication({ tenant, credentialJson: await assertion(svc, authenticator, userId, undefined, tenant) });
  return { userId, authenticator, credentialId, sessionToken: done.sessionToken };
}
