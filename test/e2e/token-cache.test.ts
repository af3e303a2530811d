import { create } from "@bufbuild/protobuf";
import { decodeJwt } from "jose";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, DenyReason, VerifyOperationRequestSchema, type VerifyOperationResponse } from "../../src/gen/authn/v1/step_up_pb.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";
import { unary } from "../support/grpc-js-client.js";
import { startTestService, type TestService } from "../support/service.js";
import { signedInUser, transfer, type VerifyRequest } from "../support/step-up.js";

const STALENESS_SECONDS = 1;

/** The decision, and the reason when it is DENY. */
const verdict = (res: VerifyOperationResponse) => [Decision[res.decision], res.details.case === "denied" ? DenyReason[res.details.value.reason] : undefined];

describe("the verified-token cache, through the service", () => {
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    a = await startTestService(undefined, { sessionRevocationStalenessSeconds: STALENESS_SECONDS });
    // A second replica on the same tables and key: it learns of A's revocations only through the store.
    b = await startTestService(a, { sessionRevocationStalenessSeconds: STALENESS_SECONDS });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const overGrpc = (svc: TestService, req: VerifyRequest): Promise<VerifyOperationResponse> =>
    unary(svc.grpc, "verifyOperation", create(VerifyOperationRequestSchema, req));

  it("answers a repeated token from the cache over both transports, and refuses a token one byte off", async () => {
    const ivan = await signedInUser(a, "ivan");
    const req = { sessionToken: ivan.sessionToken, operation: transfer(1) };
    const cachedBefore = a.app.tokens.size;
    expect(verdict(await a.connect.verifyOperation(req))).toEqual(["ALLOW", undefined]);
    expect(verdict(await overGrpc(a, req))).toEqual(["ALLOW", undefined]);
    expect(a.app.tokens.size).toBe(cachedBefore + 1);
    const i = ivan.sessionToken.length - 5;
    const forged = ivan.sessionToken.slice(0, i) + (ivan.sessionToken[i] === "A" ? "B" : "A") + ivan.sessionToken.slice(i + 1);
    expect(verdict(await a.connect.verifyOperation({ ...req, sessionToken: forged }))).toEqual(["DENY", "TOKEN_INVALID"]);
    expect(a.app.tokens.size).toBe(cachedBefore + 1);
  });

  it("still denies a cached token's revoked session on another replica within the revocation staleness", async () => {
    const judy = await signedInUser(a, "judy");
    const req = { sessionToken: judy.sessionToken, operation: transfer(2) };
    expect(verdict(await b.connect.verifyOperation(req))).toEqual(["ALLOW", undefined]); // cached on B
    await a.connect.revokeSession({ sessionId: decodeJwt(judy.sessionToken).jti! });
    expect(verdict(await a.connect.verifyOperation(req))).toEqual(["DENY", "SESSION_REVOKED"]);
    await sleep(STALENESS_SECONDS * 1000 + 200);
    expect(verdict(await b.connect.verifyOperation(req))).toEqual(["DENY", "SESSION_REVOKED"]);
    expect(verdict(await overGrpc(b, req))).toEqual(["DENY", "SESSION_REVOKED"]);
  });

  it("refuses a cached token from the key-ring reload that removes its key", async () => {
    const ken = await signedInUser(a, "ken");
    const req = { sessionToken: ken.sessionToken, operation: transfer(3) };
    expect(verdict(await a.connect.verifyOperation(req))).toEqual(["ALLOW", undefined]);
    a.app.keys.replace([await generateSigningKey("ES256", a.clock.read())]); // the old key's file was deleted
    try {
      expect(verdict(await a.connect.verifyOperation(req))).toEqual(["DENY", "TOKEN_INVALID"]);
      expect(verdict(await overGrpc(a, req))).toEqual(["DENY", "TOKEN_INVALID"]);
    } finally {
      a.app.keys.replace([a.signingKey]);
    }
  });

  // Last: it moves the shared clock past every session's expiry.
  it("refuses a cached token at its exp (the service's clock)", async () => {
    const leo = await signedInUser(a, "leo");
    const req = { sessionToken: leo.sessionToken, operation: transfer(4) };
    expect(verdict(await a.connect.verifyOperation(req))).toEqual(["ALLOW", undefined]);
    const exp = decodeJwt(leo.sessionToken).exp! * 1000;
    // The test clock runs on from real time: a second before exp leaves room for the call itself.
    a.clock.advance(exp - 1000 - a.clock.read());
    expect(verdict(await a.connect.verifyOperation(req))).toEqual(["ALLOW", undefined]);
    a.clock.advance(exp - a.clock.read());
    expect(verdict(await a.connect.verifyOperation(req))).toEqual(["DENY", "EXPIRED"]);
    expect(verdict(await overGrpc(a, req))).toEqual(["DENY", "EXPIRED"]);
  });
});
