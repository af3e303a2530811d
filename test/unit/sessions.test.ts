import fc from "fast-check";
import { decodeJwt } from "jose";
import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/audit-event.js";
import { Auditor } from "../../src/audit/auditor.js";
import { DEFAULT_FAILURE_AUDIT, FailureSampler } from "../../src/audit/failure-sampler.js";
import { newSessionId, parseSessionId } from "../../src/audit/session-id.js";
import { Sessions } from "../../src/ceremonies/sessions.js";
import { AUDIT_TIME_LIMIT_MS } from "../../src/store/audit-store.js";
import { createStore, type Store } from "../../src/store/index.js";
import { KeyRing } from "../../src/tokens/key-ring.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";
import { createTestTables, TEST_TENANT } from "../support/service.js";

const CALL = { caller: "spiffe://test/app", clientIp: "192.0.2.1", clientUserAgent: "test" };
const ASSURANCE = { amr: ["hwk", "user", "mfa"], acr: "phr" };
/** The clock of everything but the sign-in: a session's instant is its own, never "now". */
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0, 0);

describe("Sessions.open: one instant for the session id, the token and the sign-in event", () => {
  let store: Store;
  let sessions: Sessions;
  let auditor: Auditor;
  const written: AuditEvent[] = [];
  /** The store's read of the sign-in event an id names, located as Sessions locates it. */
  const findSession = (sessionId: string) => store.audit.findSession(TEST_TENANT.id, parseSessionId(sessionId)!, sessionId);

  beforeAll(async () => {
    const { dynamo, tablePrefix } = await createTestTables();
    store = createStore(dynamo, tablePrefix);
    const clock = () => NOW;
    auditor = new Auditor({
      trail: { put: (event) => (written.push(event), store.audit.put(event)) },
      failureAudit: new FailureSampler(DEFAULT_FAILURE_AUDIT, clock),
      clock,
      logger: pino({ level: "silent" }),
      credentialOwner: async () => undefined,
    });
    sessions = new Sessions({ store, keys: new KeyRing([await generateSigningKey("ES256", 0)]), clock, auditor }, 30);
  });

  it("a session opened at any instant is found by its id, at the time the id names", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: AUDIT_TIME_LIMIT_MS - 1 }),
        fc.string({ unit: "binary", minLength: 1, maxLength: 32 }),
        async (authTime, userId) => {
          const opened = await sessions.open(TEST_TENANT, { userId, credentialId: "cred-1", authTime, assurance: ASSURANCE, facts: { userId, credentialId: "cred-1" } }, CALL);
          const event = written.at(-1)!;
          expect(parseSessionId(opened.sessionId)).toEqual({ userId, time: authTime });
          expect(event.time).toBe(authTime);
          expect(event.session).toEqual({ sessionId: opened.sessionId, expiresAt: opened.expiresAt });
          expect(decodeJwt(opened.token)).toMatchObject({ jti: opened.sessionId, sub: userId, auth_time: Math.floor(authTime / 1000) });
          const found = await findSession(opened.sessionId);
          expect(found).toMatchObject({ eventId: event.eventId, time: authTime, session: { sessionId: opened.sessionId } });
          expect(await sessions.isRevoked(TEST_TENANT.id, opened.sessionId)).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("the auditor writes a sign-in event at the time its session id names, whatever its clock says", async () => {
    const authTime = NOW - 86_400_000;
    const sessionId = newSessionId("bob", authTime);
    const event = await auditor.sessionOpened(TEST_TENANT, CALL, { userId: "bob" }, { sessionId, expiresAt: NOW });
    expect(event.time).toBe(authTime);
    expect((await findSession(sessionId))?.eventId).toBe(event.eventId);
    await expect(auditor.sessionOpened(TEST_TENANT, CALL, { userId: "bob" }, { sessionId: "not-an-id", expiresAt: NOW })).rejects.toThrow();
  });

  it("no other event carries session facts, even ones smuggled past the type", async () => {
    const sessionId = newSessionId("carol", NOW - 1000);
    const smuggled = { userId: "carol", session: { sessionId, expiresAt: NOW + 600_000 } };
    await auditor.success("credential_renamed", TEST_TENANT, CALL, smuggled as never);
    expect(written.at(-1)).toMatchObject({ type: "credential_renamed", session: undefined });
    expect(await findSession(sessionId)).toBeUndefined();
  });
});
