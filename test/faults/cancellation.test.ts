import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditOutcome } from "../../src/gen/authn/v1/audit_pb.js";
import { assertion, register } from "../support/ceremonies.js";
import { closeAll, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startFaultyService, StoreFaults } from "../support/store-faults.js";

const STORE_DELAY_MS = 150;
/** Cut points spread over a finish's ≈ 4 delayed store requests; 0 is a signal aborted before the call. */
const CUT_AFTER_MS = [0, 1, 75, 150, 225, 300, 375, 450, 525, 600, 700, 900];

type Cut = { kind: "abort" | "deadline" | "none"; afterMs: number };

/**
 * FinishAuthentication cut by the client (AbortSignal) or by its deadline (Connect timeoutMs, sent
 * to the server) at many points while the store is slow: afterwards either the sign-in happened
 * completely (counter advanced, success audit event, session listed) or not at all.
 */
describe("client cancellations and deadlines mid-ceremony", () => {
  const faults = new StoreFaults();
  let svc: TestService;

  beforeAll(async () => {
    svc = await startFaultyService(faults);
  });
  afterAll(() => closeAll(svc));

  it("leave either a whole sign-in or none, whatever the timing", async () => {
    const cuts: Cut[] = [
      ...CUT_AFTER_MS.flatMap((afterMs): Cut[] => [
        { kind: "abort", afterMs },
        // timeoutMs 0 would mean no deadline at all.
        ...(afterMs > 0 ? [{ kind: "deadline", afterMs } as const] : []),
      ]),
      { kind: "none", afterMs: 0 },
    ];
    const trials = cuts.map((cut, i) => ({ cut, userId: `cut-${i}`, authenticator: new SoftAuthenticator() }));
    await Promise.all(trials.map((t) => register(svc, t.authenticator, t.userId)));
    const assertions = await Promise.all(trials.map((t) => assertion(svc, t.authenticator, t.userId)));

    faults.delayMs = STORE_DELAY_MS;
    const outcomes = await Promise.allSettled(
      trials.map(({ cut }, i) =>
        svc.connect.finishAuthentication(
          { credentialJson: assertions[i]! },
          cut.kind === "abort" ? { signal: cut.afterMs === 0 ? AbortSignal.abort() : AbortSignal.timeout(cut.afterMs) } : cut.kind === "deadline" ? { timeoutMs: cut.afterMs } : {},
        ),
      ),
    );
    // The server goes on after the client has gone: judge the state once it has finished.
    await faults.settled();
    faults.delayMs = 0;

    const tally = { whole: 0, none: 0, clientSawFailure: 0 };
    for (const [i, { userId, cut }] of trials.entries()) {
      const outcome = outcomes[i]!;
      const [credential] = (await svc.connect.listCredentials({ userId })).credentials;
      const { sessions } = await svc.connect.listSessions({ userId });
      const { events } = await svc.connect.listAuditEvents({ userId, pageSize: 100 });
      const signIns = events.filter((e) => e.type === AuditEventType.AUTHENTICATION && e.outcome === AuditOutcome.SUCCESS);
      const state = { counterAdvanced: credential?.lastUsedAt !== undefined, auditEvents: signIns.length, sessions: sessions.length };
      const label = `${cut.kind} after ${cut.afterMs} ms (${outcome.status})`;
      if (state.counterAdvanced) {
        expect(state, label).toEqual({ counterAdvanced: true, auditEvents: 1, sessions: 1 });
        expect(signIns[0]!.sessionId, label).toBe(sessions[0]!.sessionId);
        tally.whole += 1;
      } else {
        expect(state, label).toEqual({ counterAdvanced: false, auditEvents: 0, sessions: 0 });
        tally.none += 1;
      }
      if (outcome.status === "rejected") tally.clientSawFailure += 1;
      if (outcome.status === "fulfilled") {
        expect(state.counterAdvanced, label).toBe(true);
        expect(decodeJwt(outcome.value.sessionToken).jti, label).toBe(sessions[0]!.sessionId);
      }
    }
    expect(outcomes.at(-1)!.status).toBe("fulfilled");
    console.info(`cancellation outcomes: ${JSON.stringify(tally)} of ${trials.length}`);
  });
});
