import type { Plugin } from "@envelop/core";
import type { Config } from "./config.js";

export interface Tracing {
  /** The envelop plugin that opens a span per operation. */
  plugin: Plugin;
  /** Sends the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing (`@envelop/opentelemetry`, one span per operation, exported as OTLP/HTTP JSON) when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set; undefined otherwise. The SDK is
 * imported here, on demand, so a server without tracing never loads it.
 *
 * Spans carry operation names and types, not documents, variables or results: those may hold
 * customers' text and credentials (the log rules apply to traces too).
 */
export async function startTracing(config: Config["tracing"]): Promise<Tracing | undefined> {
  if (!config.tracesUrl) return undefined;
  const [{ BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { Resource }, { useOpenTelemetry }] = await Promise.all([
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@envelop/opentelemetry"),
  ]);
  const exporter = new OTLPTraceExporter({ url: config.tracesUrl, headers: config.headers });
  const provider = new BasicTracerProvider({
    resource: new Resource({ "service.name": config.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  // No resolver spans: @envelop/opentelemetry records every resolver's arguments on them (a test caught it).
  const plugin = useOpenTelemetry({ resolvers: false, defaultResolvers: false, variables: false, result: false, document: false }, provider, undefined, undefined, config.serviceName) as Plugin;
  return { plugin, shutdown: () => provider.shutdown() };
}
