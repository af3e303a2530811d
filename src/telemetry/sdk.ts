import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { AwsInstrumentation } from "@opentelemetry/instrumentation-aws-sdk";
import { PeriodicExportingMetricReader, type IMetricReader } from "@opentelemetry/sdk-metrics";
import { NodeSDK, resources } from "@opentelemetry/sdk-node";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { type ScrapeEndpoint, type ScrapeEndpointSettings, startScrapeEndpoint } from "./scrape-endpoint.js";

/** Off (the default) starts no OpenTelemetry SDK at all. */
export interface TelemetrySettings {
  /** Export traces and metrics as the standard OTEL_* variables say (OTLP by default). */
  readonly exportFromEnv: boolean;
  /** A Prometheus scrape endpoint (OTEL_EXPORTER_PROMETHEUS_HOST/PORT, as the Helm chart sets them). */
  readonly prometheus: ScrapeEndpointSettings | undefined;
}

export interface Telemetry {
  /** Flushes what is buffered and stops the exporters (the Prometheus endpoint too). */
  shutdown(): Promise<void>;
}

/** Where tests collect spans and metrics instead of exporting them. */
export interface TelemetrySinks {
  readonly spanProcessors: SpanProcessor[];
  readonly metricReaders: IMetricReader[];
}

/**
 * Starts the OpenTelemetry SDK (traces, metrics, DynamoDB client spans), or nothing when no
 * exporter is configured. Must run before the AWS SDK loads: its instrumentation patches the
 * SDK's modules as they are required.
 */
export function startTelemetry(settings: TelemetrySettings, sinks?: TelemetrySinks): Telemetry | undefined {
  if (!settings.exportFromEnv && !settings.prometheus && !sinks) return undefined;
  const scrape = !sinks && settings.prometheus ? startScrapeEndpoint(settings.prometheus) : undefined;
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still override this default name.
    resource: resources.defaultResource().merge(resources.resourceFromAttributes({ "service.name": "dynauthn" })),
    instrumentations: [new AwsInstrumentation({ suppressInternalInstrumentation: true })],
    ...exporters(settings, sinks, scrape),
  });
  sdk.start();
  return {
    shutdown: async () => {
      await sdk.shutdown();
      await scrape?.close();
    },
  };
}

/**
 * Without Prometheus the SDK picks exporters from OTEL_* itself. With it, metrics go to the scrape
 * endpoint and, when export is configured, over OTLP too; spans are exported only when configured.
 */
function exporters(settings: TelemetrySettings, sinks: TelemetrySinks | undefined, scrape: ScrapeEndpoint | undefined): Partial<TelemetrySinks> {
  if (sinks) return sinks;
  if (!scrape) return {};
  const metricReaders: IMetricReader[] = [scrape.exporter];
  if (!settings.exportFromEnv) return { metricReaders, spanProcessors: [] };
  return { metricReaders: [...metricReaders, new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() })] };
}
