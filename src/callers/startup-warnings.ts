import type { Logger } from "pino";
import type { CallerPolicy } from "./policy.js";

/** What decides who the callers are: the service's Config has this shape. */
export interface CallerSetup {
  readonly callers: CallerPolicy | undefined;
  readonly tls: { readonly clientCaFile?: string | undefined } | undefined;
}

/** Says loudly, at start, when callers are not (or not fully) authenticated. */
export function warnAboutCallers(config: CallerSetup, logger: Logger): void {
  const policy = config.callers;
  if (!policy) {
    if (!config.tls?.clientCaFile) {
      logger.warn("no caller policy: every client that reaches the port may call every RPC (docs/tenants-and-callers.md)");
    }
    return;
  }
  if (policy.allowAnonymousCallers) {
    logger.warn(
      { anonymous: policy.anonymous ?? "nothing" },
      "allowAnonymousCallers is true: calls without a caller identity are accepted for what callers.anonymous allows",
    );
  }
  if (policy.callerIdentity === "xfcc") {
    logger.warn(
      { xfccTrustedHops: policy.xfccTrustedHops ?? 1 },
      "callerIdentity is xfcc: the caller identity is read from the x-forwarded-client-cert element xfccTrustedHops from the end, which only the mesh sidecar (and the proxies it trusts) may be able to set",
    );
  }
}
