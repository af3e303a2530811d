import { ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { AuthError } from "../errors.js";
import type { CallStage } from "./call-pipeline.js";
import { codeOf, toConnectError } from "./connect-error.js";

/**
 * Every failure leaves as a ConnectError with google.rpc.ErrorInfo. Expected refusals are logged
 * with their reason; anything else is logged in full here and answered as a bare INTERNAL, so a
 * caller never sees a stack trace.
 */
export function errorStage(logger: Logger): CallStage {
  return async (call, next) => {
    try {
      return await next();
    } catch (err) {
      const procedure = call.method.parent.typeName + "/" + call.method.name;
      if (err instanceof AuthError) {
        // Store failures and internal errors need an operator; refusals of a request do not.
        const level = err.reason.startsWith("STORE_") || err.reason === "INTERNAL" ? "error" : "info";
        const { reason, metadata, retryDelayMs } = err;
        logger[level]({ procedure, reason, code: codeOf(reason), metadata, retryDelayMs, cause: (err as { cause?: unknown }).cause }, "rpc refused");
      } else if (!(err instanceof ConnectError)) {
        logger.error({ procedure, err }, "rpc failed unexpectedly");
      }
      throw toConnectError(err);
    }
  };
}
