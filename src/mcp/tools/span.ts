/**
 * The span of one tool's own work (the GenAI `execute_tool {gen_ai.tool.name}` span, kind
 * INTERNAL), a child of the MCP `tools/call` server span: the store query is its child. Its
 * attributes never include the arguments or the result, only their shape (e.g. how many results).
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Span } from '@opentelemetry/api';
import { failSpan, inSpan } from '../../observability/tracing.js';

export function inToolSpan(
  tool: string,
  fn: (span: Span) => Promise<CallToolResult>,
): Promise<CallToolResult> {
  return inSpan(
    `execute_tool ${tool}`,
    { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool } },
    async (span) => {
      const result = await fn(span);
      if (result.isError) failSpan(span, 'tool_error');
      return result;
    },
  );
}
