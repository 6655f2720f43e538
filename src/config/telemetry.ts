/**
 * OpenTelemetry settings from the standard `OTEL_*` variables (the SDK's own names, see
 * https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/), parsed once
 * into a typed {@link TelemetryConfig}. Tracing and OTLP metrics are off unless an OTLP endpoint is
 * set; `OTEL_SDK_DISABLED=true` turns both off whatever else is set. Only OTLP over HTTP with
 * protobuf (`http/protobuf`, port 4318) is supported.
 *
 * @example
 * ```ts
 * const t = loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
 * console.log(t.traces?.url); // http://127.0.0.1:4318/v1/traces
 * ```
 */
import { ConfigError, type Env, parseBoolean, parseInteger, parseUrl, read } from './config.js';

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export interface TelemetryConfig {
  /** `service.name` of every span and metric (`OTEL_SERVICE_NAME`, default `sample-mcp`). */
  readonly serviceName: string;
  /** Extra resource attributes (`OTEL_RESOURCE_ATTRIBUTES`, `key=value,…`). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** Headers sent with every export (`OTEL_EXPORTER_OTLP_HEADERS`; may hold an API key: never logged). */
  readonly headers: Readonly<Record<string, string>>;
  /** Span export; `undefined` when tracing is off. */
  readonly traces:
    | {
        readonly url: string;
        readonly sampler: SamplerName;
        /** Ratio for the `traceidratio` samplers (`OTEL_TRACES_SAMPLER_ARG`, default 1). */
        readonly ratio: number;
        /** Batch span processor delay between exports (`OTEL_BSP_SCHEDULE_DELAY`, ms). */
        readonly scheduleDelayMs: number;
      }
    | undefined;
  /** OTLP metric export; `undefined` when off (the Prometheus `/metrics` endpoint is always there). */
  readonly metrics: { readonly url: string; readonly intervalMs: number } | undefined;
}

/** `key=value,key2=value2` (W3C baggage-like, values percent-decoded), as the OTEL_* lists are. */
function parsePairs(env: Env, name: string): Record<string, string> {
  const raw = read(env, name);
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (eq <= 0 || key === '') {
      throw new ConfigError(
        name,
        `"${part.trim().slice(0, 40)}" is not key=value`,
        'use key=value,key2=value2',
      );
    }
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(
        name,
        `the value of "${key}" is not percent-encoded correctly`,
        'fix the %-escapes',
      );
    }
  }
  return out;
}

/** A signal's URL: its own `…_<SIGNAL>_ENDPOINT` verbatim, else the base endpoint + `/v1/<signal>`. */
function signalUrl(env: Env, signal: 'traces' | 'metrics'): string | undefined {
  const own = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
  const ownRaw = read(env, own);
  if (ownRaw !== undefined) return parseUrl(own, ownRaw, `http://127.0.0.1:4318/v1/${signal}`).href;
  const baseRaw = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (baseRaw === undefined) return undefined;
  const base = parseUrl('OTEL_EXPORTER_OTLP_ENDPOINT', baseRaw, 'http://127.0.0.1:4318');
  return `${base.href.replace(/\/$/, '')}/v1/${signal}`;
}

function exporterOn(env: Env, name: string): boolean {
  const raw = read(env, name)?.toLowerCase() ?? 'otlp';
  if (raw === 'otlp') return true;
  if (raw === 'none') return false;
  throw new ConfigError(name, `"${raw}" is not supported`, 'use otlp (default) or none');
}

/**
 * @throws ConfigError naming the variable and the fix
 */
export function loadTelemetryConfig(env: Env): TelemetryConfig {
  const disabled = parseBoolean(env, 'OTEL_SDK_DISABLED', false);
  const protocol = read(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
  for (const name of [
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  ]) {
    const p = read(env, name) ?? protocol;
    if (p !== 'http/protobuf') {
      throw new ConfigError(
        name,
        `"${p}" is not supported`,
        "use http/protobuf (the default) and point the endpoint at the collector's OTLP/HTTP port, usually 4318",
      );
    }
  }
  const sampler = (read(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on') as SamplerName;
  if (!SAMPLERS.includes(sampler)) {
    throw new ConfigError(
      'OTEL_TRACES_SAMPLER',
      `"${sampler}" is not supported`,
      `use one of ${SAMPLERS.join(', ')}`,
    );
  }
  const ratioRaw = read(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = ratioRaw === undefined ? 1 : Number(ratioRaw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new ConfigError(
      'OTEL_TRACES_SAMPLER_ARG',
      `"${ratioRaw}" is not a ratio between 0 and 1`,
      'e.g. 0.1',
    );
  }
  const tracesUrl =
    disabled || !exporterOn(env, 'OTEL_TRACES_EXPORTER') ? undefined : signalUrl(env, 'traces');
  const metricsUrl =
    disabled || !exporterOn(env, 'OTEL_METRICS_EXPORTER') ? undefined : signalUrl(env, 'metrics');
  return Object.freeze({
    serviceName: read(env, 'OTEL_SERVICE_NAME') ?? 'sample-mcp',
    resourceAttributes: Object.freeze(parsePairs(env, 'OTEL_RESOURCE_ATTRIBUTES')),
    headers: Object.freeze(parsePairs(env, 'OTEL_EXPORTER_OTLP_HEADERS')),
    traces: tracesUrl
      ? Object.freeze({
          url: tracesUrl,
          sampler,
          ratio,
          scheduleDelayMs: parseInteger(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 1, 600_000),
        })
      : undefined,
    metrics: metricsUrl
      ? Object.freeze({
          url: metricsUrl,
          intervalMs: parseInteger(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000, 100, 86_400_000),
        })
      : undefined,
  });
}
