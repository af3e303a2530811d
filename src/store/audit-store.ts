import {
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";
import type { AuditEvent, AuditEventType } from "./audit-record.js";
import { tenantKey } from "./keys.js";
import { optionalNumber } from "./attributes.js";
import { queryAll } from "./query-all.js";
import { isConditionFailure, storeCall } from "./store-errors.js";
import { TTL_ATTRIBUTE } from "./tables.js";

type Item = Record<string, AttributeValue>;

/**
 * The sort key holds times as 13 zero-padded digits of epoch milliseconds, so keys compare as
 * their times do only for times in [0, AUDIT_TIME_LIMIT_MS): 2286-11-20T17:46:40Z is where a
 * 14th digit would appear. List bounds outside that range are refused before they get here (a
 * session id naming a later time simply finds no event: no event has one).
 */
export const AUDIT_TIME_LIMIT_MS = 10_000_000_000_000;

/** Events sort by time within a user's partition; the event id breaks ties. */
function sortKey(time: number, eventId: string): string {
  return `${String(time).padStart(13, "0")}#${eventId}`;
}

const userPartition = (tenant: string, userId: string) => tenantKey(tenant, `u#${userId}`);
const credentialPartition = (tenant: string, credentialId: string) => tenantKey(tenant, `c#${credentialId}`);

/**
 * Events are filed under their user; an event with no user yet (a refusal naming a credential id
 * nobody owns) is filed under that credential id. No secondary index: a sign-in's event costs one
 * write unit, and every lookup is a key or a partition.
 */
const partitionOf = (e: Pick<AuditEvent, "tenant" | "userId" | "credentialId">) =>
  e.userId || !e.credentialId ? userPartition(e.tenant, e.userId) : credentialPartition(e.tenant, e.credentialId);

function toItem(e: AuditEvent, retentionSeconds: number): Item {
  const item: Item = {
    pk: { S: partitionOf(e) },
    sk: { S: sortKey(e.time, e.eventId) },
    eventId: { S: e.eventId },
    time: { N: String(e.time) },
    type: { S: e.type },
    outcome: { S: e.outcome },
    reason: { S: e.reason },
    tenant: { S: e.tenant },
    userId: { S: e.userId },
    credentialId: { S: e.credentialId },
    aaguid: { S: e.aaguid },
    caller: { S: e.caller },
    clientIp: { S: e.clientIp },
    clientUa: { S: e.clientUserAgent },
    traceId: { S: e.traceId },
    details: { M: Object.fromEntries(Object.entries(e.details).map(([k, v]) => [k, { S: v }])) },
    [TTL_ATTRIBUTE]: { N: String(Math.floor(e.time / 1000) + retentionSeconds) },
  };
  if (e.ceremonyBeganAt !== undefined) item.began = { N: String(e.ceremonyBeganAt) };
  if (e.session) {
    item.sessionId = { S: e.session.sessionId };
    item.sessionExpiresAt = { N: String(e.session.expiresAt) };
  }
  return item;
}

function fromItem(item: Item): AuditEvent {
  const s = (name: string) => item[name]?.S ?? "";
  return {
    eventId: s("eventId"),
    time: Number(item.time?.N ?? 0),
    type: s("type") as AuditEventType,
    outcome: s("outcome") as AuditEvent["outcome"],
    reason: s("reason"),
    tenant: s("tenant"),
    userId: s("userId"),
    credentialId: s("credentialId"),
    aaguid: s("aaguid"),
    caller: s("caller"),
    clientIp: s("clientIp"),
    clientUserAgent: s("clientUa"),
    traceId: s("traceId"),
    ceremonyBeganAt: optionalNumber(item.began),
    session: item.sessionId?.S
      ? {
          sessionId: item.sessionId.S,
          expiresAt: Number(item.sessionExpiresAt?.N ?? 0),
          revokedAt: optionalNumber(item.sessionRevokedAt),
        }
      : undefined,
    details: Object.fromEntries(Object.entries(item.details?.M ?? {}).map(([k, v]) => [k, v.S ?? ""])),
  };
}

/** By user, or by credential: `ownerId` is the credential's user, undefined when no one owns that id. */
export type AuditSubject = { readonly userId: string } | { readonly credentialId: string; readonly ownerId: string | undefined };

/** What a listing reads: one partition, filtered by credential id when it is the owner's. */
export interface AuditScope {
  readonly partition: string;
  readonly credentialFilter: string | undefined;
}

/**
 * A credential's events are its owner's partition filtered by credential id, or the partition of
 * refusals filed under an id no one owns. The scope changes when the owner does (e.g. an erase),
 * so a page position is only valid within the scope it was read from.
 */
export function auditScope(tenant: string, by: AuditSubject): AuditScope {
  if ("userId" in by) return { partition: userPartition(tenant, by.userId), credentialFilter: undefined };
  if (by.ownerId === undefined) return { partition: credentialPartition(tenant, by.credentialId), credentialFilter: undefined };
  return { partition: userPartition(tenant, by.ownerId), credentialFilter: by.credentialId };
}

export interface AuditQuery {
  readonly scope: AuditScope;
  /** Epoch ms, 0 <= from < to <= AUDIT_TIME_LIMIT_MS. */
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  readonly position: AuditPosition | undefined;
}

/** Where a page ended: the last event's key attributes (all strings), for the next page to start after. */
export type AuditPosition = Readonly<Record<string, string>>;

export interface AuditPage {
  readonly events: AuditEvent[];
  readonly position: AuditPosition | undefined;
}

const positionKey = (position: AuditPosition): Item => Object.fromEntries(Object.entries(position).map(([k, v]) => [k, { S: v }]));
const keyPosition = (key: Item): AuditPosition => Object.fromEntries(Object.entries(key).map(([k, v]) => [k, v.S ?? ""]));

/** The audit trail: one item per event, partitioned by user, with a TTL for retention. */
export class AuditStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly retentionSeconds: number,
  ) {}

  async put(event: AuditEvent): Promise<void> {
    await storeCall(() => this.client.send(new PutItemCommand({ TableName: this.table, Item: toItem(event, this.retentionSeconds) })));
  }

  /** The event as one part of a transaction (e.g. with the credential it records). */
  transactPut(event: AuditEvent): TransactWriteItem {
    return { Put: { TableName: this.table, Item: toItem(event, this.retentionSeconds) } };
  }

  /**
   * Newest first, between `from` (inclusive) and `to` (exclusive), up to `limit` events a page,
   * from `position` (the `position` of a previous page of the same scope) on.
   */
  async list(q: AuditQuery): Promise<AuditPage> {
    const { partition, credentialFilter: byCredential } = q.scope;
    // DynamoDB would refuse a start key from another partition (ValidationException); the caller
    // binds positions to their scope, so this is a defect, not a request to pass on.
    if (q.position !== undefined && q.position.pk !== partition) throw new Error("audit page position is from another scope");
    const events: AuditEvent[] = [];
    let position = q.position && positionKey(q.position);
    // A filtered page may come back short: read on until the page is full or the range ends.
    do {
      const out = await storeCall(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: "pk = :p AND sk BETWEEN :from AND :to",
            FilterExpression: byCredential === undefined ? undefined : "credentialId = :c",
            ExpressionAttributeValues: {
              ":p": { S: partition },
              ":from": { S: sortKey(q.from, "") },
              ":to": { S: sortKey(q.to - 1, "~") },
              ...(byCredential === undefined ? {} : { ":c": { S: byCredential } }),
            },
            ScanIndexForward: false,
            Limit: q.limit - events.length,
            ExclusiveStartKey: position,
          }),
        ),
      );
      events.push(...(out.Items ?? []).map(fromItem));
      position = out.LastEvaluatedKey;
    } while (position && events.length < q.limit);
    return { events, position: position && keyPosition(position) };
  }

  /**
   * The user's unexpired sign-ins (stored expiry after `now`) among those after `since`, newest
   * first. `since` only bounds the read; the stored expiry, not today's lifetime, decides.
   */
  async sessionsOfUser(tenant: string, userId: string, since: number, now: number): Promise<AuditEvent[]> {
    return this.querySessions({
      KeyConditionExpression: "pk = :p AND sk >= :since",
      ExpressionAttributeValues: { ":p": { S: userPartition(tenant, userId) }, ":since": { S: sortKey(since, "") }, ":now": { N: String(now) } },
    });
  }

  /** The sign-ins a credential of `userId` made that may still be unexpired. */
  async sessionsOfCredential(tenant: string, userId: string, credentialId: string, since: number, now: number): Promise<AuditEvent[]> {
    return this.querySessions(
      {
        KeyConditionExpression: "pk = :p AND sk >= :since",
        ExpressionAttributeValues: { ":p": { S: userPartition(tenant, userId) }, ":since": { S: sortKey(since, "") }, ":now": { N: String(now) }, ":c": { S: credentialId } },
      },
      " AND credentialId = :c",
    );
  }

  private async querySessions(
    input: { KeyConditionExpression: string; ExpressionAttributeValues: Item },
    alsoFilter = "",
  ): Promise<AuditEvent[]> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      ...input,
      FilterExpression: `attribute_exists(sessionId) AND sessionExpiresAt > :now${alsoFilter}`,
      ScanIndexForward: false,
    });
    return items.map(fromItem);
  }

  /**
   * A sign-in by its session id (the token's jti) and the user and sign-in time that id names
   * (src/audit/session-id.ts): one strongly consistent read of that instant in the user's
   * partition, so a revocation is seen at once.
   */
  async findSession(tenant: string, at: { readonly userId: string; readonly time: number }, sessionId: string): Promise<AuditEvent | undefined> {
    const out = await storeCall(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :p AND sk BETWEEN :from AND :to",
          FilterExpression: "sessionId = :s",
          ExpressionAttributeValues: {
            ":p": { S: userPartition(tenant, at.userId) },
            ":from": { S: sortKey(at.time, "") },
            ":to": { S: sortKey(at.time, "~") },
            ":s": { S: sessionId },
          },
          ConsistentRead: true,
        }),
      ),
    );
    const item = out.Items?.[0];
    return item ? fromItem(item) : undefined;
  }

  /** Marks a session revoked once; returns false when it already was. */
  async revokeSession(event: AuditEvent, now: number): Promise<boolean> {
    try {
      await storeCall(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: { S: partitionOf(event) }, sk: { S: sortKey(event.time, event.eventId) } },
            UpdateExpression: "SET sessionRevokedAt = :now",
            ConditionExpression: "attribute_exists(sessionId) AND attribute_not_exists(sessionRevokedAt)",
            ExpressionAttributeValues: { ":now": { N: String(now) } },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
