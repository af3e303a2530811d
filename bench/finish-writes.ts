import { randomBytes } from "node:crypto";
import { auditEvent } from "../src/audit/audit-event.js";
import { newSessionId } from "../src/audit/session-id.js";
import { createStore } from "../src/store/index.js";
import type { Harness } from "./harness.js";
import { floorGetItem, interleaved, median, type Rounds } from "./sdk-floors.js";

/** Client CPU per FinishAuthentication's three writes, and per the client floors' GetItem, same rounds. */
export interface FinishWritesFloor {
  /** µs for the three writes of one finish. */
  readonly perFinishUs: number;
  /** µs per GetItem through the same client (the SDK call floor of the Finish target). */
  readonly getItemUs: number;
  /** Median of the rounds' perFinish / (3 × GetItem). */
  readonly timesThreeGetItems: number;
}

const TENANT = "default";
const CHALLENGE_TTL_MS = 300_000;
/** Above any counter the pool's authenticators reach in a run, so every update advances. */
const COUNTER_BASE = 1_000_000_000;

/**
 * FinishAuthentication's own three DynamoDB writes — the consumed marker's conditional put, the
 * conditional counter update, the sign-in event — issued by the service's store modules through
 * the service's client (harness.store) from the bench process, on the pool's real credential
 * items, alone: what "its DynamoDB calls" cost in the SDK when nothing else runs, beside a GetItem
 * through the same client in interleaved rounds. The event carries what a sign-in's does (the
 * Begin call's facts, the session, backed_up). Run it last: it moves the pool's stored counters
 * past anything their authenticators will send.
 */
export async function finishWritesFloor(h: Harness, opts: Omit<Rounds, "onRound">): Promise<FinishWritesFloor> {
  const store = createStore(h.store, h.tablePrefix);
  const credentials = h.pool.map((u) => ({ userId: u.userId, credentialId: u.authenticator.credentialIds()[0]! }));
  const call = { caller: "", clientIp: "127.0.0.1", clientUserAgent: "grpc-node-js/1.14.3" };
  let next = 0;
  const finishWrites = async () => {
    const i = next++;
    const { userId, credentialId } = credentials[i % credentials.length]!;
    const now = Date.now();
    await store.challenges.markChallengeUsed(TENANT, randomBytes(12).toString("base64url"), now + CHALLENGE_TTL_MS);
    await store.credentials.recordAssertion({ tenant: TENANT, credentialId, userId, newCounter: COUNTER_BASE + i, backedUp: false, usedAt: now, refuseCloneSuspected: false });
    const facts = {
      credentialId,
      userId,
      aaguid: "00000000-0000-0000-0000-000000000000",
      ceremonyBeganAt: now - 1500,
      details: { begin_client_ip: call.clientIp, begin_client_user_agent: call.clientUserAgent, backed_up: "false" },
    };
    const session = { sessionId: newSessionId(userId, now), expiresAt: now + 3_600_000 };
    await store.audit.put(auditEvent("authentication", "success", TENANT, call, now, facts, session));
  };
  const get = floorGetItem();
  const perCall = await interleaved({ finishWrites, getItem: () => h.store.send(get) }, opts);
  const writes = perCall.finishWrites!;
  const gets = perCall.getItem!;
  return {
    perFinishUs: median(writes),
    getItemUs: median(gets),
    timesThreeGetItems: median(writes.map((us, i) => us / (3 * gets[i]!))),
  };
}
