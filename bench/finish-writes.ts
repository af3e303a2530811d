import { randomBytes } from "node:crypto";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { auditEvent } from "../src/audit/audit-event.js";
import { newSessionId } from "../src/audit/session-id.js";
import { createStore } from "../src/store/index.js";
import { tenantKey } from "../src/store/keys.js";
import { tableNames } from "../src/store/tables.js";
import type { Harness } from "./harness.js";
import type { ClientCall } from "./sdk-floors.js";

const TENANT = "default";
const CHALLENGE_TTL_MS = 300_000;

/**
 * FinishAuthentication's own three DynamoDB writes — the consumed marker's conditional put, the
 * conditional counter update, the sign-in event — issued by the service's store modules through
 * the service's client (harness.store) from the bench process: what "its DynamoDB calls" cost in
 * the SDK when nothing else runs. The counter updates go to copies of the pool's credential items
 * (same attributes, their own ids and users), so the pool's own counters stay where its
 * authenticators expect them and the writes can run between finishes. The event carries what a
 * sign-in's does (the Begin call's facts, the session, backed_up).
 */
export async function finishWritesCall(h: Harness): Promise<ClientCall> {
  const store = createStore(h.store, h.tablePrefix);
  const table = tableNames(h.tablePrefix).credentials;
  const tag = randomBytes(4).toString("hex");
  const credentials = await Promise.all(
    h.pool.map(async (u, i) => {
      const original = await h.store.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: tenantKey(TENANT, u.authenticator.credentialIds()[0]!) } }, ConsistentRead: true }),
      );
      if (!original.Item) throw new Error(`pool credential of ${u.userId} not found`);
      const credentialId = `writes-${tag}-${i}`;
      const userId = `${u.userId}-writes`;
      const item = { ...original.Item, pk: { S: tenantKey(TENANT, credentialId) }, userId: { S: userId }, userKey: { S: tenantKey(TENANT, userId) }, counter: { N: "0" } };
      await h.store.send(new PutItemCommand({ TableName: table, Item: item }));
      return { userId, credentialId };
    }),
  );
  const call = { caller: "", clientIp: "127.0.0.1", clientUserAgent: "grpc-node-js/1.14.3" };
  let next = 0;
  return async () => {
    const i = next++;
    const { userId, credentialId } = credentials[i % credentials.length]!;
    const now = Date.now();
    await store.challenges.markChallengeUsed(TENANT, randomBytes(12).toString("base64url"), now + CHALLENGE_TTL_MS);
    // Each copy's counter rises by one a call, so every update advances.
    await store.credentials.recordAssertion({ tenant: TENANT, credentialId, userId, newCounter: 1 + Math.floor(i / credentials.length), backedUp: false, usedAt: now, refuseCloneSuspected: false });
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
}
