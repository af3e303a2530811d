import net from "node:net";
import { afterAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { startTelemetry } from "../../src/telemetry/sdk.js";
import { DEFAULT_TRANSPORT_LIMITS } from "../../src/server-limits/transport-limits.js";

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const port = await freePort();
const limits = { ...DEFAULT_TRANSPORT_LIMITS, headersTimeoutMs: 500 };
const telemetry = startTelemetry({ exportFromEnv: false, prometheus: { host: "127.0.0.1", port, limits } });
// Instruments bind to the provider that is global when their module loads: load them after the SDK.
const { countCacheLookup } = await import("../../src/telemetry/metrics.js");

describe("telemetry configuration and the Prometheus endpoint", () => {
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

  it("answers 404 off /metrics, and cuts off a client dripping its request head at the headers timeout (the service port's limits)", async () => {
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    const start = Date.now();
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    const dripping = setInterval(() => socket.write("X-Drip: 1\r\n"), 100);
    const received: string[] = [];
    socket.on("data", (d: Buffer) => received.push(d.toString("latin1")));
    const closedAfter = await new Promise<number | undefined>((resolve) => {
      socket.once("close", () => resolve(Date.now() - start));
      setTimeout(() => resolve(undefined), 5000);
    });
    clearInterval(dripping);
    socket.destroy();
    expect(closedAfter, "still open after 5 s (Node's default headers timeout is 60 s)").toBeDefined();
    expect(closedAfter!).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 50);
    expect(received.join("")).toMatch(/^HTTP\/1\.1 408 /);
  });
});
