import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService } from "../src/gen/authn/v1/auth_service_pb.js";
import { startBff } from "./bff.js";
import { DEMO_PROFILES, demoWellKnown } from "./tenant.js";

/**
 * `npm run demo`: dynauthn as its own process (src/main.ts on its embedded DynamoDB Local, on a
 * free loopback port) and the demo site on http://localhost:8080, dynauthn's default allowed
 * origin. Ctrl-C stops both. The relying party is a tenants file (the demo's profiles need one).
 */

const SITE = "http://localhost:8080";
const LISTENING = /^dynauthn listening on (http:\/\/\S+) /;

// Compiled to dist/demo-app/demo/server.js beside dist/demo-app/src/main.js (demo/tsconfig.json).
const mainJs = fileURLToPath(new URL("../src/main.js", import.meta.url));
const publicDir = fileURLToPath(new URL("../../../demo/public/", import.meta.url));

const tenantsDir = mkdtempSync(join(tmpdir(), "dynauthn-demo-"));
const tenantsFile = join(tenantsDir, "tenants.json");
writeFileSync(
  tenantsFile,
  JSON.stringify({
    tenants: [
      {
        id: "demo",
        rpId: "localhost",
        rpName: "Acme Notes (dynauthn demo)",
        origins: [SITE],
        profiles: DEMO_PROFILES,
        ...demoWellKnown(new URL(SITE)),
      },
    ],
  }),
);

// A clean environment, so AWS credentials or a DYNAMODB_ENDPOINT in the shell never point the
// demo at a real table: dynauthn starts its embedded DynamoDB Local and an ephemeral key.
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
  PORT: "0",
  HOST: "127.0.0.1",
  DYNAUTHN_CONFIG_FILE: tenantsFile,
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
};

function fail(message: string): never {
  service.removeAllListeners("exit");
  service.kill("SIGTERM");
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const service = spawn(process.execPath, [mainJs], { env, stdio: ["ignore", "pipe", "inherit"] });
service.on("exit", (code, signal) => fail(`dynauthn exited (${signal ?? code}); stopping the demo`));

const serviceUrl = await new Promise<string>((resolve) => {
  createInterface({ input: service.stdout! }).on("line", (line) => {
    const listening = LISTENING.exec(line);
    if (listening) resolve(listening[1]!);
    else process.stdout.write(`${line}\n`);
  });
});

const bff = await startBff(
  {
    auth: createClient(AuthService, createGrpcTransport({ baseUrl: serviceUrl })),
    jwksUrl: new URL("/.well-known/jwks.json", serviceUrl),
    origin: SITE,
    publicDir,
    log: (line) => process.stdout.write(`${line}\n`),
  },
  "127.0.0.1",
).catch((err: unknown) => fail(`the demo site cannot listen on ${SITE}: ${String(err)}`));

process.stdout.write(`dynauthn (gRPC, Connect) on ${serviceUrl}\ndemo: open ${SITE} in Chrome, Edge, Safari or Firefox (Ctrl-C stops)\n`);

const stop = async () => {
  service.removeAllListeners("exit");
  service.kill("SIGTERM");
  await bff.close();
  await new Promise((resolve) => service.once("exit", resolve));
  rmSync(tenantsDir, { recursive: true, force: true });
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
