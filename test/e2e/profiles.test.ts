import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BeginAuthenticationRequestSchema,
  BeginRegistrationRequestSchema,
  FinishAuthenticationRequestSchema,
  FinishRegistrationRequestSchema,
  Hint,
  UserVerificationRequirement,
  AuthenticatorAttachment,
} from "../../src/gen/authn/v1/auth_service_pb.js";
import { Decision, DenyReason, VerifyOperationRequestSchema, type VerifyOperationResponse } from "../../src/gen/authn/v1/step_up_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { grpcErrorDetails, unary } from "../support/grpc-js-client.js";
import { ORIGIN, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { signedInUser, transfer } from "../support/step-up.js";

/** The tenant's profiles: an "admin" one that demands much, a "roaming" one that only guides. */
const PROFILES = new Map(
  Object.entries({
    admin: { userVerification: "required", timeoutSeconds: 60, hints: ["security-key", "hybrid"], attachment: "cross-platform", residentKey: "discouraged", algorithms: [-7] },
    roaming: { hints: ["hybrid"], attachment: "cross-platform" },
  } as const),
);

type Schema = DescMessage;
/** One RPC over one transport: resolves with the response, or rejects with [code name, ErrorInfo reason]. */
type Call = <S extends Schema>(method: string, schema: S, req: MessageInitShape<S>) => Promise<any>;

describe("hints and ceremony profiles end to end", () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService(undefined, { tenant: { ...TEST_TENANT, profiles: PROFILES } });
  });
  afterAll(async () => {
    await svc?.close();
  });

  const transports: [string, Call][] = [
    [
      "Connect (HTTP/1.1, JSON)",
      (method, schema, req) =>
        (svc.connect as any)[method](create(schema, req)).catch((e: unknown) => {
          const err = ConnectError.from(e);
          throw [Code[err.code], err.findDetails(ErrorInfoSchema)[0]?.reason];
        }),
    ],
    [
      "gRPC (grpc-js, HTTP/2)",
      (method, schema, req) =>
        unary(svc.grpc, method, create(schema, req)).catch((err: ServiceError) => {
          throw [GrpcStatus[err.code], grpcErrorDetails(err, ErrorInfoSchema)[0]?.reason];
        }),
    ],
  ];
  const GRPC_NAME: Record<string, string> = { InvalidArgument: "INVALID_ARGUMENT", Unauthenticated: "UNAUTHENTICATED" };
  /** The [code, reason] a call was refused with, the code as gRPC names it. */
  const refusal = (call: Promise<unknown>) =>
    call.then(
      () => ["resolved"],
      ([code, reason]: [string, string]) => [GRPC_NAME[code] ?? code, reason],
    );
  const options = (res: { optionsJson: string }) => JSON.parse(res.optionsJson);

  describe.each(transports)("over %s", (name, call) => {
    const tag = name.slice(0, 4);
    const beginRegistration = (req: MessageInitShape<typeof BeginRegistrationRequestSchema>) => call("beginRegistration", BeginRegistrationRequestSchema, req);
    const beginAuthentication = (req: MessageInitShape<typeof BeginAuthenticationRequestSchema>) => call("beginAuthentication", BeginAuthenticationRequestSchema, req);
    const finishRegistration = (credential: object) => call("finishRegistration", FinishRegistrationRequestSchema, { credentialJson: JSON.stringify(credential) });
    const finishAuthentication = (credential: object) => call("finishAuthentication", FinishAuthenticationRequestSchema, { credentialJson: JSON.stringify(credential) });

    it("request hints appear in the options JSON in the order given", async () => {
      const reg = await beginRegistration({ userId: `hints-${tag}`, userName: "h", preferences: { hints: [Hint.HYBRID, Hint.SECURITY_KEY] } });
      expect(options(reg).hints).toEqual(["hybrid", "security-key"]);
      const auth = await beginAuthentication({ userId: `hints-${tag}`, hints: [Hint.CLIENT_DEVICE] });
      expect(options(auth).hints).toEqual(["client-device"]);
      expect(options(await beginAuthentication({}))).not.toHaveProperty("hints");
    });

    it("unspecified, unknown or repeated hints are FIELD_INVALID", async () => {
      for (const hints of [[Hint.UNSPECIFIED], [Hint.HYBRID, Hint.HYBRID], [99 as Hint]]) {
        expect(await refusal(beginAuthentication({ hints })), String(hints)).toEqual(["INVALID_ARGUMENT", "FIELD_INVALID"]);
        expect(await refusal(beginRegistration({ userId: "u", userName: "u", preferences: { hints } })), String(hints)).toEqual(["INVALID_ARGUMENT", "FIELD_INVALID"]);
      }
    });

    it("a profile sets timeout, user verification, hints, attachment, resident key and pubKeyCredParams", async () => {
      const reg = options(await beginRegistration({ userId: `admin-${tag}`, userName: "a", profile: "admin" }));
      expect(reg).toMatchObject({
        timeout: 60_000,
        hints: ["security-key", "hybrid"],
        authenticatorSelection: { authenticatorAttachment: "cross-platform", residentKey: "discouraged", userVerification: "required" },
      });
      expect(reg.pubKeyCredParams).toEqual([{ alg: -7, type: "public-key" }]);
      const auth = options(await beginAuthentication({ userId: `admin-${tag}`, profile: "admin" }));
      expect(auth).toMatchObject({ timeout: 60_000, hints: ["security-key", "hybrid"], userVerification: "required" });
      // Without a profile: the tenant's defaults.
      const plain = options(await beginRegistration({ userId: `admin-${tag}`, userName: "a" }));
      expect(plain).toMatchObject({ timeout: 300_000, authenticatorSelection: { userVerification: "preferred", residentKey: "required" } });
      expect(plain).not.toHaveProperty("hints");
      expect(plain.pubKeyCredParams).toHaveLength(TEST_TENANT.algorithms.length);
    });

    it("explicit preferences and hints override the profile's, but cannot lower its user verification", async () => {
      const reg = options(
        await beginRegistration({
          userId: `override-${tag}`,
          userName: "o",
          profile: "admin",
          preferences: { hints: [Hint.CLIENT_DEVICE], authenticatorAttachment: AuthenticatorAttachment.PLATFORM, userVerification: UserVerificationRequirement.DISCOURAGED },
        }),
      );
      expect(reg.hints).toEqual(["client-device"]);
      expect(reg.authenticatorSelection).toMatchObject({ authenticatorAttachment: "platform", userVerification: "required" });
      const auth = options(await beginAuthentication({ profile: "admin", hints: [Hint.HYBRID], userVerification: UserVerificationRequirement.PREFERRED }));
      expect(auth).toMatchObject({ hints: ["hybrid"], userVerification: "required" });
    });

    it("the profile's user verification is enforced at finish: an authenticator answering UV=0 is refused", async () => {
      const noUv = new SoftAuthenticator({ userVerification: false });
      const reg = await beginRegistration({ userId: `no-uv-${tag}`, userName: "n", profile: "admin" });
      expect(await refusal(finishRegistration(noUv.create(reg.optionsJson, ORIGIN)))).toEqual(["UNAUTHENTICATED", "USER_VERIFICATION_REQUIRED"]);
      // Registered without the profile, the same authenticator signs in; under the profile it cannot.
      const plain = await beginRegistration({ userId: `no-uv-${tag}`, userName: "n" });
      await finishRegistration(noUv.create(plain.optionsJson, ORIGIN));
      const admin = await beginAuthentication({ userId: `no-uv-${tag}`, profile: "admin" });
      expect(await refusal(finishAuthentication(noUv.get(admin.optionsJson, ORIGIN)))).toEqual(["UNAUTHENTICATED", "USER_VERIFICATION_REQUIRED"]);
      const ordinary = await beginAuthentication({ userId: `no-uv-${tag}` });
      await expect(finishAuthentication(noUv.get(ordinary.optionsJson, ORIGIN))).resolves.toMatchObject({ userVerified: false });
    });

    it("the profile's algorithms are enforced at finish: a client that offers another one anyway is ALGORITHM_UNSUPPORTED", async () => {
      const eddsa = new SoftAuthenticator({ alg: -8 });
      const begun = options(await beginRegistration({ userId: `alg-${tag}`, userName: "a", profile: "admin" }));
      const tampered = { ...begun, pubKeyCredParams: [...begun.pubKeyCredParams, { alg: -8, type: "public-key" }] };
      expect(await refusal(finishRegistration(eddsa.create(tampered, ORIGIN)))).toEqual(["UNAUTHENTICATED", "ALGORITHM_UNSUPPORTED"]);
      // The tenant itself accepts EdDSA: without the profile the same authenticator registers.
      const plain = await beginRegistration({ userId: `alg-${tag}`, userName: "a" });
      await expect(finishRegistration(new SoftAuthenticator({ alg: -8 }).create(plain.optionsJson, ORIGIN))).resolves.toBeDefined();
      const es256 = await beginRegistration({ userId: `alg-${tag}`, userName: "a", profile: "admin" });
      await expect(finishRegistration(new SoftAuthenticator({ alg: -7 }).create(es256.optionsJson, ORIGIN))).resolves.toBeDefined();
    });

    it("VerifyOperation's STEP_UP_REQUIRED challenge follows the profile, and its user verification is enforced", async () => {
      const user = await signedInUser(svc, `step-up-${tag}`, { userVerification: false });
      const verify = (req: MessageInitShape<typeof VerifyOperationRequestSchema>): Promise<VerifyOperationResponse> =>
        call("verifyOperation", VerifyOperationRequestSchema, req);
      const base = { sessionToken: user.sessionToken, operation: transfer(10), requirement: { singleUse: true } };
      const stepUp = await verify({ ...base, profile: "admin" });
      expect(Decision[stepUp.decision]).toBe("STEP_UP_REQUIRED");
      const optionsJson = stepUp.details.case === "stepUpRequired" ? stepUp.details.value.optionsJson : "";
      expect(JSON.parse(optionsJson)).toMatchObject({ timeout: 60_000, hints: ["security-key", "hybrid"], userVerification: "required" });
      const answered = await verify({ ...base, profile: "admin", evidence: { case: "credentialJson", value: JSON.stringify(user.authenticator.get(optionsJson, ORIGIN)) } });
      expect([Decision[answered.decision], answered.details.case === "denied" ? DenyReason[answered.details.value.reason] : undefined]).toEqual(["DENY", "UV_MISSING"]);
      // Under the "roaming" profile (no UV demand) the same authenticator's answer is allowed.
      const roaming = await verify({ ...base, profile: "roaming" });
      const roamingJson = roaming.details.case === "stepUpRequired" ? roaming.details.value.optionsJson : "";
      expect(JSON.parse(roamingJson)).toMatchObject({ hints: ["hybrid"], userVerification: "preferred", timeout: 300_000 });
      const allowed = await verify({ ...base, profile: "roaming", evidence: { case: "credentialJson", value: JSON.stringify(user.authenticator.get(roamingJson, ORIGIN)) } });
      expect(Decision[allowed.decision]).toBe("ALLOW");
    });

    it("an unknown profile is FIELD_INVALID at BeginRegistration, BeginAuthentication and VerifyOperation", async () => {
      const user = await signedInUser(svc, `unknown-${tag}`);
      for (const profile of ["nope", "constructor", "Admin", "admin\u0000", "x".repeat(4096)]) {
        const refused = ["INVALID_ARGUMENT", "FIELD_INVALID"];
        expect(await refusal(beginRegistration({ userId: "u", userName: "u", profile })), profile).toEqual(refused);
        expect(await refusal(beginAuthentication({ profile })), profile).toEqual(refused);
        expect(await refusal(call("verifyOperation", VerifyOperationRequestSchema, { sessionToken: user.sessionToken, operation: transfer(1), profile })), profile).toEqual(refused);
      }
    });
  });
});
