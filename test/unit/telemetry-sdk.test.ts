import { afterAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { startTelemetry } from "../../src/telemetry/sdk.js";
import { DEFAULT_TRANSPORT_LIMITS } from "../../src/server-limits/transport-limits.js";
import { freePort } from "../support/free-port.js";

const port = await freePort();
const telemetry = startTelemetry({ exportFromEnv: false, prometheus: { host: "127.0.0.1", port, limits: DEFAULT_TRANSPORT_LIMITS } });
// Instruments bind to the provider that is global when their module loads: load them after the SDK.
const { countCacheLookup } = await import("../../src/telemetry/metrics.js");

describe("telemetry configuration and the Prometheus exporter", () => {
  afterAll(() => telemetry?.shutdown());

  it("starts nothing unless an exporter or a scrape port is configured", () => {
    expect(loadConfig({}).telemetry).toEqual({ exportFromEnv: false, prometheus: undefined });
    expect(startTelemetry(loadConfig({}).telemetry)).toBeUndefined();
    expect(loadConfig({ OTEL_SERVICE_NAME: "dynauthn" }).telemetry.exportFromEnv).toBe(false);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).telemetry.exportFromEnv).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_PROMETHEUS_PORT: "9464" }).telemetry.prometheus).toEqual({ host: "0.0.0.0", port: 9464, limits: DEFAULT_TRANSPORT_LIMITS });
    expect(
      loadConfig({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_EXPORTER_PROMETHEUS_PORT: "9464" })
        .telemetry,
    ).toEqual({ exportFromEnv: false, prometheus: undefined });
  });

  it("serves the service's metrics for scraping on OTEL_EXPORTER_PROMETHEUS_PORT", async () => {
    countCacheLookup("credential", true);
    const body = await vi.waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      return res.text();
    });
    expect(body).toMatch(/^dynauthn_cache_lookups_total\{dynauthn_cache="credential",dynauthn_cache_result="hit",otel_scope_name="dynauthn"\} 1$/m);
  });
});
