/**
 * Small helpers over `@opentelemetry/api` for the spans this server makes by hand. They only use
 * the API: with no SDK registered (src/observability/telemetry.ts) every call is a cheap no-op, and
 * the hot paths skip them altogether (`tracing: false` in the composition root).
 *
 * What never goes into a span: tokens, passwords, session secrets, claims beyond `iss`/`aud`/
 * client id, and user input in span names (search queries, order ids).
 */
import {
  type Attributes,
  INVALID_SPAN_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

export { SpanKind };

export const tracer = () => trace.getTracer('sample-mcp');

/** Marks a span failed: `error.type` (low-cardinality) and status ERROR with a safe message. */
export function failSpan(span: Span, errorType: string, message?: string): void {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(message !== undefined && { message }) });
}

const NOT_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs `fn` in a new active span (a child of the current one) and ends it when `fn` settles; a
 * throw marks it failed with `error.type` = the error's name (never its message: it may quote input).
 * Outside a recorded trace (tracing off, or not sampled) `fn` runs as it is, with a span that
 * records nothing.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; leaf?: boolean },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return fn(NOT_RECORDING);
  // A span that will have no children is started under the active one without becoming active
  // itself: one context switch less per span on the hot path.
  if (options.leaf) return settle(tracer().startSpan(name, options), fn);
  return tracer().startActiveSpan(name, options, (span) => settle(span, fn));
}

/** Runs `fn` with the span and ends it when `fn` settles, marking a throw as a failure. */
async function settle<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    failSpan(span, (err as Error)?.name ?? '_OTHER');
    throw err;
  } finally {
    span.end();
  }
}
