/**
 * OpenTelemetry for this process, from the typed {@link TelemetryConfig}: when an OTLP endpoint is
 * configured it registers the SDK's tracer provider (sampler from `OTEL_TRACES_SAMPLER`, batch
 * span processor, OTLP/HTTP protobuf exporter), the W3C trace-context and baggage propagators and
 * the AsyncLocalStorage context manager, and a meter provider exporting over OTLP. Without one it
 * registers nothing: the `@opentelemetry/api` calls elsewhere are then no-ops and the MCP server
 * is not instrumented for spans at all.
 *
 * Called once per process by the command-line entry points (`npm run serve`, `npm start`), which
 * serve both the resource server and the embedded authorization server from one process.
 *
 * @example
 * ```ts
 * const telemetry = startTelemetry(loadConfig(process.env).telemetry);
 * console.log(telemetry.tracing); // false unless OTEL_EXPORTER_OTLP_ENDPOINT is set
 * await telemetry.shutdown(); // exports what is buffered
 * ```
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { SamplerName, TelemetryConfig } from '../config/telemetry.js';

/** How long a stop waits for the last export. */
const SHUTDOWN_WAIT_MS = 3000;

export interface Telemetry {
  /** Spans are recorded and exported. */
  readonly tracing: boolean;
  /** Exports what is buffered (spans and metrics). */
  flush(): Promise<void>;
  /** Flushes (waiting at most 3 s), stops the exporters and unregisters the SDK. */
  shutdown(): Promise<void>;
}

function samplerFor(name: SamplerName, ratio: number): Sampler {
  const root = name.endsWith('always_on')
    ? new AlwaysOnSampler()
    : name.endsWith('always_off')
      ? new AlwaysOffSampler()
      : new TraceIdRatioBasedSampler(ratio);
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

export function startTelemetry(config: TelemetryConfig): Telemetry {
  if (!config.traces && !config.metrics) {
    return { tracing: false, flush: async () => {}, shutdown: async () => {} };
  }
  const resource = resourceFromAttributes({
    ...config.resourceAttributes,
    'service.name': config.serviceName,
  });
  const headers = { ...config.headers };
  let tracerProvider: TracerProvider | undefined;
  if (config.traces) {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
    tracerProvider = new TracerProvider({
      resource,
      sampler: samplerFor(config.traces.sampler, config.traces.ratio),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: config.traces.url, headers }),
          scheduledDelayMillis: config.traces.scheduleDelayMs,
        }),
      ],
    });
    trace.setGlobalTracerProvider(tracerProvider);
  }
  let meterProvider: MeterProvider | undefined;
  if (config.metrics) {
    meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: config.metrics.url, headers }),
          exportIntervalMillis: config.metrics.intervalMs,
          exportTimeoutMillis: Math.min(30_000, config.metrics.intervalMs),
        }),
      ],
    });
    metrics.setGlobalMeterProvider(meterProvider);
  }
  const flush = async () => {
    await Promise.all([tracerProvider?.forceFlush(), meterProvider?.forceFlush()]);
  };
  return {
    tracing: tracerProvider !== undefined,
    flush,
    shutdown: async () => {
      // An unreachable collector must not hold up a stop for the exporters' own 10 s timeouts.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([tracerProvider?.shutdown(), meterProvider?.shutdown()]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}
