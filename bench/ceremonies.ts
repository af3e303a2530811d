import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  AuthService,
  BeginAuthenticationRequestSchema,
  BeginRegistrationRequestSchema,
  FinishAuthenticationRequestSchema,
  FinishRegistrationRequestSchema,
  type BeginAuthenticationResponse,
  type BeginRegistrationResponse,
  type FinishAuthenticationResponse,
} from "../src/gen/authn/v1/auth_service_pb.js";
import {
  Decision,
  VerifyOperationRequestSchema,
  type StepUpRequirementSchema,
  type VerifyOperationResponse,
} from "../src/gen/authn/v1/step_up_pb.js";
import { Authorization, CheckRequestSchema, type CheckResponse } from "../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { Health, HealthCheckRequestSchema } from "../src/gen/grpc/health/v1/health_pb.js";
import { grpcJsClient, unary } from "../test/support/grpc-js-client.js";
import { SoftAuthenticator } from "../test/support/soft-authenticator.js";
import { ORIGIN } from "./service-process.js";

/** A user of the pool: their passkey lives in their own software authenticator. */
export interface BenchUser {
  readonly userId: string;
  readonly authenticator: SoftAuthenticator;
  sessionToken?: string;
}

/** The operation VerifyOperation is asked about: a payment, bound by its payload digest. */
const OPERATION = {
  name: "payments.transfer",
  resource: "accounts/1",
  payloadDigest: createHash("sha256").update('{"amount":"500 EUR","to":"X"}').digest(),
  displayText: "Transfer 500 EUR to X",
};

/** How FinishAuthentication reaches the service: gRPC (grpc-js, HTTP/2) or Connect JSON over HTTP/1.1 (connect-node). */
export type FinishVia = "grpc" | "connect-json-http1";

/**
 * The service's ceremonies over real gRPC (grpc-js, HTTP/2, one channel like a calling service),
 * done by software authenticators with real keys and signatures; FinishAuthentication also over
 * Connect JSON on HTTP/1.1 (keep-alive connections), as a browser-facing backend would call it.
 */
export class Ceremonies {
  readonly #auth: grpc.Client;
  readonly #health: grpc.Client;
  readonly #envoy: grpc.Client;
  readonly #connect: Client<typeof AuthService>;

  constructor(address: string) {
    this.#auth = grpcJsClient(AuthService, address);
    this.#health = grpcJsClient(Health, address);
    this.#envoy = grpcJsClient(Authorization, address);
    this.#connect = createClient(AuthService, createConnectTransport({ baseUrl: `http://${address}`, httpVersion: "1.1" }));
  }

  close(): void {
    this.#auth.close();
    this.#health.close();
    this.#envoy.close();
  }

  async register(userId: string): Promise<BenchUser> {
    const authenticator = new SoftAuthenticator();
    const begin = await unary<BeginRegistrationResponse>(
      this.#auth,
      "beginRegistration",
      create(BeginRegistrationRequestSchema, { userId, userName: `${userId}@example.com` }),
    );
    const credential = authenticator.create(begin.optionsJson, ORIGIN);
    await unary(this.#auth, "finishRegistration", create(FinishRegistrationRequestSchema, { credentialJson: JSON.stringify(credential) }));
    return { userId, authenticator };
  }

  /** BeginAuthentication and the authenticator's answer: the assertion JSON FinishAuthentication takes. */
  async beginSignIn(user: BenchUser): Promise<string> {
    const begin = await unary<BeginAuthenticationResponse>(
      this.#auth,
      "beginAuthentication",
      create(BeginAuthenticationRequestSchema, { userId: user.userId }),
    );
    return JSON.stringify(user.authenticator.get(begin.optionsJson, ORIGIN));
  }

  /** FinishAuthentication; keeps the session token on the user and returns the call's latency (ms). */
  async finishSignIn(user: BenchUser, credentialJson: string, via: FinishVia = "grpc"): Promise<number> {
    const t0 = performance.now();
    const done =
      via === "grpc"
        ? await unary<FinishAuthenticationResponse>(this.#auth, "finishAuthentication", create(FinishAuthenticationRequestSchema, { credentialJson }))
        : await this.#connect.finishAuthentication({ credentialJson });
    const ms = performance.now() - t0;
    if (done.userId !== user.userId) throw new Error(`signed in as ${done.userId}, expected ${user.userId}`);
    user.sessionToken = done.sessionToken;
    return ms;
  }

  /** VerifyOperation with the user's session token only: the Envoy hot path. */
  async verifyOperation(user: BenchUser): Promise<void> {
    const res = await this.#verify(user, undefined, undefined);
    if (res.decision !== Decision.ALLOW) throw new Error(`VerifyOperation answered ${Decision[res.decision]}`);
  }

  /** VerifyOperation demanding a fresh single-use passkey assertion: STEP_UP_REQUIRED, the assertion, ALLOW. */
  async stepUp(user: BenchUser): Promise<void> {
    const requirement = { singleUse: true, requireUserVerification: true };
    const challenge = await this.#verify(user, requirement, undefined);
    if (challenge.details.case !== "stepUpRequired") throw new Error(`step-up answered ${Decision[challenge.decision]}`);
    const assertion = JSON.stringify(user.authenticator.get(challenge.details.value.optionsJson, ORIGIN));
    const res = await this.#verify(user, requirement, assertion);
    if (res.decision !== Decision.ALLOW) throw new Error(`step-up assertion answered ${Decision[res.decision]}`);
  }

  /**
   * envoy.service.auth.v3.Authorization/Check as Envoy's ext_authz filter sends it for a route
   * with no step-up requirement: the user's bearer session token only.
   */
  async extAuthzCheck(user: BenchUser): Promise<void> {
    if (!user.sessionToken) throw new Error(`${user.userId} has no session token`);
    const req = create(CheckRequestSchema, {
      attributes: {
        contextExtensions: { operation: OPERATION.name },
        request: { http: { method: "GET", path: "/v1/accounts/1", host: "api.example.com", headers: { authorization: `Bearer ${user.sessionToken}` } } },
      },
    });
    const res = await unary<CheckResponse>(this.#envoy, "check", req);
    if (res.status?.code !== 0) throw new Error(`ext_authz Check answered ${res.status?.code}: ${res.status?.message}`);
  }

  /** grpc.health.v1.Health/Check: the cheapest unary RPC on the same port and transport. */
  async healthCheck(): Promise<void> {
    await unary(this.#health, "check", create(HealthCheckRequestSchema, {}));
  }

  #verify(
    user: BenchUser,
    requirement: MessageInitShape<typeof StepUpRequirementSchema> | undefined,
    credentialJson: string | undefined,
  ): Promise<VerifyOperationResponse> {
    if (!user.sessionToken) throw new Error(`${user.userId} has no session token`);
    return unary<VerifyOperationResponse>(
      this.#auth,
      "verifyOperation",
      create(VerifyOperationRequestSchema, {
        sessionToken: user.sessionToken,
        operation: OPERATION,
        ...(requirement ? { requirement } : {}),
        ...(credentialJson ? { evidence: { case: "credentialJson", value: credentialJson } } : {}),
      }),
    );
  }
}
