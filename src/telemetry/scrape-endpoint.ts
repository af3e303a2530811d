import http from "node:http";
import { diag } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { setHttp1Limits } from "../server-limits/http1-limits.js";
import type { TransportLimits } from "../server-limits/transport-limits.js";

/** The exporter's default path, which the chart's ServiceMonitor scrapes. */
const METRICS_PATH = "/metrics";

/** OTEL_EXPORTER_PROMETHEUS_HOST/PORT, served with the transport's connection limits. */
export interface ScrapeEndpointSettings {
  readonly host: string;
  readonly port: number;
  readonly limits: TransportLimits;
}

export interface ScrapeEndpoint {
  readonly exporter: PrometheusExporter;
  close(): Promise<void>;
}

/**
 * The Prometheus exporter, served by an http.Server of ours instead of its own, which takes no
 * options: the scrape port gets the service port's timeouts, header size and connection cap.
 */
export function startScrapeEndpoint(settings: ScrapeEndpointSettings): ScrapeEndpoint {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const server = http.createServer((req, res) => {
    if ((req.url ?? "").split("?", 1)[0] === METRICS_PATH) return exporter.getMetricsRequestHandler(req, res);
    res.writeHead(404).end();
  });
  setHttp1Limits(server, settings.limits);
  server.maxConnections = settings.limits.maxConnections;
  // Like the exporter's own server: a failure to listen is reported, and never keeps the process up.
  server.on("error", (err) => diag.error("Prometheus scrape endpoint", err));
  server.listen(settings.port, settings.host).unref();
  return {
    exporter,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
