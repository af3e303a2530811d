import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { AuditStore } from "./audit-store.js";
import { DEFAULT_AUDIT_RETENTION_DAYS } from "./audit-retention.js";
import { ChallengeStore } from "./challenge-store.js";
import { CredentialStore } from "./credential-store.js";
import { MdsSerialStore } from "./mds-serial-store.js";
import { tableNames } from "./tables.js";
import { UserStore } from "./user-store.js";

export interface Store {
  readonly audit: AuditStore;
  readonly challenges: ChallengeStore;
  readonly credentials: CredentialStore;
  readonly users: UserStore;
  readonly mdsSerial: MdsSerialStore;
}

/** The only place that knows which table holds what. */
export function createStore(client: DynamoDBClient, tablePrefix: string, auditRetentionDays = DEFAULT_AUDIT_RETENTION_DAYS): Store {
  const names = tableNames(tablePrefix);
  return {
    audit: new AuditStore(client, names.audit, auditRetentionDays * 86_400),
    challenges: new ChallengeStore(client, names.challenges),
    credentials: new CredentialStore(client, names.credentials),
    users: new UserStore(client, names.users),
    mdsSerial: new MdsSerialStore(client, names.users),
  };
}
