import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { assertion, register } from "../support/ceremonies.js";
import { closeAll, startReplicas, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

const COPIES_PER_REPLICA = 8;
const ROUNDS = 3;

/** One assertion replayed concurrently through two replicas: single use must hold in the store, not in a cache. */
describe("concurrent replay across replicas", () => {
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    [a, b] = await startReplicas();
  });
  afterAll(() => closeAll(a, b));

  it(`the same assertion sent ${COPIES_PER_REPLICA}× to each of A and B at once signs in exactly once`, async () => {
    const authenticator = new SoftAuthenticator();
    await register(a, authenticator, "raced");
    for (let round = 0; round < ROUNDS; round++) {
      const credentialJson = await assertion(round % 2 === 0 ? a : b, authenticator, "raced");
      const calls = [a, b].flatMap((svc) =>
        Array.from({ length: COPIES_PER_REPLICA }, () => svc.connect.finishAuthentication({ credentialJson })),
      );
      const outcomes = await Promise.allSettled(calls);
      const refusals = outcomes.flatMap((o) => (o.status === "rejected" ? [ConnectError.from(o.reason)] : []));
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      expect(
        new Set(refusals.map((e) => `${Code[e.code]}:${e.findDetails(ErrorInfoSchema)[0]?.reason}`)),
      ).toEqual(new Set(["Unauthenticated:CHALLENGE_INVALID"]));
    }
    const { events } = await b.connect.listAuditEvents({ userId: "raced", pageSize: 500 });
    const successes = events.filter((e) => e.type === AuditEventType.AUTHENTICATION && e.outcome === AuditOutcome.SUCCESS);
    expect(successes).toHaveLength(ROUNDS);
    expect((await a.connect.listSessions({ userId: "raced" })).sessions).toHaveLength(ROUNDS);
  });
});
