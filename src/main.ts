// First: telemetry must run before any later import loads the AWS SDK (see telemetry/register.ts).
import { startupConfig, telemetry } from "./telemetry/register.js";
import { ConfigError, requireOperatorSecrets, type Config } from "./config.js";
import { startApp } from "./app.js";
import { MdsBlobReloader } from "./attestation/mds-reloader.js";
import { warnAboutCallers } from "./callers/startup-warnings.js";
import { createLogger } from "./logger.js";
import { TenantsFileReloader } from "./tenants/tenants-file-reloader.js";
import { createDynamoClient } from "./store/client.js";
import { createStore } from "./store/index.js";
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from "./store/embedded-dynamodb.js";
import { createTables, tableNames } from "./store/tables.js";
import { openKeyRing } from "./tokens/open-key-ring.js";
import { installFetchDeadline } from "./webauthn/fetch-deadline.js";
import { ephemeralServerSecrets, loadServerSecrets } from "./server-secrets.js";

/** Entry: config → store → keys → listen; SIGTERM/SIGINT: NOT_SERVING → drain → exit. */
async function main(config: Config): Promise<void> {
  requireOperatorSecrets(config);
  const logger = createLogger(config.logLevel);
  warnAboutCallers(config, logger);
  installFetchDeadline(config.crlFetchTimeoutMs);
  const serverSecrets = config.serverSecretsFile ? await loadServerSecrets(config.serverSecretsFile) : ephemeralServerSecrets();
  if (!config.serverSecretsFile) {
    logger.warn("no SERVER_SECRETS_FILE: generated an ephemeral server secret (development only; page tokens and decoy ids change at restart)");
  }

  let embedded: EmbeddedDynamoDb | undefined;
  let endpoint = config.dynamodb.endpoint;
  if (config.dynamodb.embedded) {
    logger.info({ dataDir: config.dynamodb.dataDir ?? "(in memory)" }, "starting embedded DynamoDB Local");
    embedded = await startEmbeddedDynamoDb({ dataDir: config.dynamodb.dataDir });
    endpoint = embedded.endpoint;
  }
  const dynamo = createDynamoClient({ ...config.dynamodb, endpoint });
  if (config.dynamodb.createTables) {
    const created = await createTables(dynamo, tableNames(config.dynamodb.tablePrefix));
    logger.info({ created }, "tables ready");
  }

  const keys = await openKeyRing(config, logger);
  const mdsSerial = createStore(dynamo, config.dynamodb.tablePrefix).mdsSerial;
  const mds = config.mds ? await MdsBlobReloader.open(config.mds, logger, Date.now, mdsSerial) : undefined;
  mds?.start(config.mds?.reloadSeconds ?? 0);

  const app = await startApp(
    { ...config, dynamo, tablePrefix: config.dynamodb.tablePrefix, keyRing: keys.ring, serverSecrets, logger, mds: mds?.current },
    config.port,
    config.host,
  );
  const tenantsReloader = config.tenantsFile
    ? new TenantsFileReloader({
        ...config.tenantsFile,
        tenants: app.tenants,
        authorizer: app.callerAuthorizer,
        hasMetadata: config.mds !== undefined,
        logger,
      })
    : undefined;
  await tenantsReloader?.start(config.tenantsFile?.reloadSeconds ?? 0);
  const { address, port } = app.server.address;
  const scheme = config.tls ? "https" : "http";
  logger.info(
    { address, port, tenants: config.tenants.map((t) => t.id), defaultTenant: config.tenant.id, dynamodb: endpoint ?? "aws", beginLimits: config.beginLimits, transportLimits: config.transportLimits },
    "dynauthn listening",
  );
  process.stdout.write(`dynauthn listening on ${scheme}://${address}:${port} (gRPC, gRPC-Web, Connect)\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining");
    app.health.drain();
    await app.server.close(config.shutdownGraceSeconds * 1000);
    keys.reloader.stop();
    mds?.stop();
    tenantsReloader?.stop();
    dynamo.destroy();
    await embedded?.stop();
    await telemetry?.shutdown();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

try {
  if (startupConfig instanceof ConfigError) throw startupConfig;
  await main(startupConfig);
} catch (err) {
  process.stderr.write(`dynauthn: ${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
}
