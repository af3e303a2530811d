import { ConfigError, loadConfig } from "../config.js";
import { startTelemetry, type Telemetry } from "./sdk.js";

/**
 * main.ts imports this module first. ES modules evaluate their imports in order, so the SDK and
 * its AWS SDK instrumentation are running before any later import loads the AWS SDK.
 */
function fromEnvironment(): Telemetry | undefined {
  try {
    return startTelemetry(loadConfig().telemetry);
  } catch (err) {
    if (err instanceof ConfigError) return undefined; // main reports it
    throw err;
  }
}

export const telemetry = fromEnvironment();
