import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Logger } from "pino";
import { Caches } from "./cache.js";
import { AuthenticationCeremony } from "./ceremonies/authentication.js";
import { CredentialLifecycle } from "./ceremonies/credential-lifecycle.js";
import { RegistrationCeremony } from "./ceremonies/registration.js";
import type { TenantConfig } from "./config.js";
import { routes } from "./routes.js";
import { errorInterceptor } from "./rpc/error-interceptor.js";
import { HealthState } from "./rpc/health.js";
import { type RunningServer, startServer } from "./server.js";
import { createStore } from "./store/index.js";
import type { SigningKey } from "./tokens/signing-key.js";
import { Tenants } from "./tenants.js";

export interface AppOptions {
  readonly dynamo: DynamoDBClient;
  readonly tablePrefix: string;
  readonly tenant: TenantConfig;
  readonly signingKey: SigningKey;
  readonly logger: Logger;
  readonly credentialCacheTtlSeconds: number;
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly clock?: () => number;
}

export interface App {
  readonly server: RunningServer;
  readonly health: HealthState;
  readonly caches: Caches;
}

/** The AuthService name as health checks know it. */
export const AUTH_SERVICE_NAME = "authn.v1.AuthService";

/** Wires config-free dependencies into a listening server; main.ts and the tests both use it. */
export async function startApp(opts: AppOptions, port: number, host: string): Promise<App> {
  const caches = new Caches({ userListTtlSeconds: opts.credentialCacheTtlSeconds });
  const deps = {
    store: createStore(opts.dynamo, opts.tablePrefix),
    caches,
    signingKey: opts.signingKey,
    logger: opts.logger,
    clock: opts.clock ?? Date.now,
  };
  const health = new HealthState();
  health.setServing(AUTH_SERVICE_NAME, true);
  const server = await startServer(
    {
      routes: routes(
        {
          tenants: new Tenants(opts.tenant),
          registration: new RegistrationCeremony(deps),
          authentication: new AuthenticationCeremony(deps),
          lifecycle: new CredentialLifecycle(deps),
        },
        health,
      ),
      interceptors: [errorInterceptor(opts.logger)],
      tls: opts.tls,
    },
    port,
    host,
  );
  return { server, health, caches };
}
