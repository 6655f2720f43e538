/**
 * Tool results in the shape ChatGPT's connector contract expects: exactly one text content item
 * holding the JSON, plus the same object as `structuredContent` for clients that read it.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';

export function jsonResult<T extends Record<string, unknown>>(value: T): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/** A tool-level error (`isError: true`): the model sees the message, the protocol call succeeds. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
