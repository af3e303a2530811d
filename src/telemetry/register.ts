import { type Config, ConfigError, loadConfig } from "../config.js";
import { startTelemetry, type Telemetry } from "./sdk.js";

/**
 * main.ts imports this module first. ES modules evaluate their imports in order, so the SDK and
 * its AWS SDK instrumentation are running before any later import loads the AWS SDK. The
 * configuration it needs is the one main runs with: loaded once, so the tenants file is read once.
 */
function fromEnvironment(): { readonly config: Config | ConfigError; readonly telemetry: Telemetry | undefined } {
  try {
    const config = loadConfig();
    return { config, telemetry: startTelemetry(config.telemetry) };
  } catch (err) {
    if (err instanceof ConfigError) return { config: err, telemetry: undefined }; // main reports it
    throw err;
  }
}

/** The configuration from the environment, or why it is invalid. */
export const { config: startupConfig, telemetry } = fromEnvironment();
