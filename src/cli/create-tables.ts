import { ConfigError, loadConfig } from "../config.js";
import { createDynamoClient } from "../store/client.js";
import { createTables, tableNames } from "../store/tables.js";

/** `npm run tables:create`: creates the tables (idempotent) on DYNAMODB_ENDPOINT or AWS. */
try {
  const { dynamodb } = loadConfig();
  if (dynamodb.embedded) {
    throw new ConfigError("set DYNAMODB_ENDPOINT or AWS credentials: the embedded store creates its tables at start");
  }
  const client = createDynamoClient(dynamodb);
  const names = tableNames(dynamodb.tablePrefix);
  try {
    const created = await createTables(client, names);
    process.stdout.write(`tables ready: ${Object.values(names).join(", ")} (created: ${created.join(", ") || "none"})\n`);
  } finally {
    client.destroy();
  }
} catch (err) {
  process.stderr.write(`tables:create failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
