import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { startBff, type BffOptions } from "../../demo/bff.js";
import { DEMO_PROFILES } from "../../demo/tenant.js";
import type { UserDirectory } from "../../demo/users.js";
import type { MdsCatalog } from "../../src/attestation/mds-catalog.js";
import { AuthService } from "../../src/gen/authn/v1/auth_service_pb.js";
import type { TenantConfig } from "../../src/tenants/tenant-config.js";
import { startTestService, TEST_TENANT, type TestService } from "./service.js";

// The demo's sites for a test: dynauthn in-process with the demo's tenant, and the demo's BFFs
// calling it over gRPC as `npm run demo`'s does (the browser suite opens them in Chromium).

/** What the demo BFFs print: a test reads the one-time codes there, as the user would. */
export class DemoLog {
  readonly lines: string[] = [];
  readonly write = (line: string): void => {
    this.lines.push(line);
  };

  /** The last code printed for `username`. */
  codeFor(username: string): string {
    const printed = this.lines.findLast((line) => line.startsWith(`one-time code for ${username}: `));
    if (printed === undefined) throw new Error(`no one-time code for ${username} in the demo's log`);
    return /: (\d{6}) /.exec(printed)![1]!;
  }
}

/** What every suite's sites have: the allowed origin the pages open, the service, the log. */
export interface Sites {
  readonly site: string;
  readonly service: TestService;
  readonly log: DemoLog;
  close(): Promise<void>;
}

/**
 * dynauthn plus the demo BFF at an allowed origin (`site`) and a second copy of the demo on
 * another localhost port that dynauthn does not allow (`foreign`), both calling it over gRPC.
 * The tenant has the demo's profiles (demo/tenant.ts), as `npm run demo` gives it.
 */
export interface DemoSites extends Sites {
  readonly foreign: string;
}

/** The demo's tenant at `origins`, with the demo's Level 3 settings (`npm run demo` writes the same). */
export function demoTenant(overrides: Partial<TenantConfig> & Pick<TenantConfig, "origins">): TenantConfig {
  return { ...TEST_TENANT, profiles: new Map(Object.entries(DEMO_PROFILES)), ...overrides };
}

/** The demo's BFF for `origin`, calling `service` over gRPC like `npm run demo`'s. */
export function demoBffOptions(service: TestService, origin: string, log: DemoLog, users?: UserDirectory): BffOptions {
  return {
    ...(users ? { users } : {}),
    auth: createClient(AuthService, createGrpcTransport({ baseUrl: service.baseUrl })),
    jwksUrl: new URL("/.well-known/jwks.json", service.baseUrl),
    origin,
    publicDir: fileURLToPath(new URL("../../demo/public/", import.meta.url)),
    log: log.write,
  };
}

/** What a suite's dynauthn has beyond the demo's tenant: a FIDO MDS catalog (provider names, icons). */
export interface DemoSitesOptions {
  readonly mds?: MdsCatalog;
}

/**
 * A port picked free may be taken by another test file's listener before the BFF binds it (the
 * origins must be known before dynauthn starts, so the BFFs cannot simply listen on port 0):
 * such a start is undone and tried again on new ports.
 */
export async function startDemoSites(opts: DemoSitesOptions, attempts = 5): Promise<DemoSites> {
  const site = `http://localhost:${await freePort()}`;
  const foreign = `http://localhost:${await freePort()}`;
  const service = await startTestService(undefined, { tenant: demoTenant({ origins: [site] }), ...opts });
  const log = new DemoLog();
  const started = await Promise.allSettled([site, foreign].map((origin) => startBff(demoBffOptions(service, origin, log), "127.0.0.1")));
  const bffs = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const close = async () => {
    await Promise.all(bffs.map((bff) => bff.close()));
    await service.close();
  };
  const failure = started.find((result) => result.status === "rejected");
  if (failure) {
    await close();
    const portTaken = (failure.reason as NodeJS.ErrnoException).code === "EADDRINUSE";
    if (portTaken && attempts > 1) return startDemoSites(opts, attempts - 1);
    throw failure.reason;
  }
  return { site, foreign, service, log, close };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

