/**
 * One long-lived SDK server per process for 2025-era POSTs. The SDK's documented stateless
 * pattern builds a server, its tool schemas and a transport for every request. Here one
 * `McpServer` from the same factory stays connected to an in-process {@link Transport} that
 * multiplexes requests: each incoming JSON-RPC request gets an internal id (so concurrent requests
 * that reuse the same id cannot collide), goes through the SDK's protocol layer exactly as from any
 * transport — method dispatch, input validation, tool call, output validation — and its response
 * is handed back with the client's id restored. The caller's `AuthInfo` travels with each message,
 * as the SDK's HTTP transports pass it.
 *
 * The messages of a batch are delivered one event-loop turn apart, so one user's batch of
 * searches does not stall everyone else for its whole duration.
 *
 * `notifications/cancelled` is not passed on: on a shared server the id it names would be another
 * caller's internal id, and the SDK answers nothing for a cancelled request. Every request is
 * settled — by its response, by `requestTimeoutMs`, or when the server closes.
 */
import type {
  AuthInfo,
  JSONRPCMessage,
  McpServer,
  RequestId,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
} from '@modelcontextprotocol/server';
import { withFacts } from './context.js';

interface Pending {
  originalId: RequestId;
  resolve: (message: JSONRPCMessage) => void;
  timer: NodeJS.Timeout;
}

class MultiplexTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly requestTimeoutMs: number) {}

  async start(): Promise<void> {}

  async close(): Promise<void> {
    for (const [id, p] of this.pending) {
      p.resolve({
        jsonrpc: '2.0',
        id: p.originalId,
        error: { code: -32603, message: 'Server shutting down' },
      });
      this.pending.delete(id);
    }
    this.onclose?.();
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (!isJSONRPCResultResponse(message) && !isJSONRPCErrorResponse(message)) {
      // Notifications or requests related to a request (progress, logging, sampling): this
      // server's tools send none, and a one-shot HTTP answer has nowhere to put them.
      return;
    }
    const id = typeof message.id === 'number' ? message.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve({ ...message, id: p.originalId } as JSONRPCMessage);
  }

  /** Delivers a request and resolves with its response. */
  request(message: JSONRPCMessage & { id: RequestId }, authInfo: AuthInfo): Promise<JSONRPCMessage> {
    const id = this.nextId++;
    if (this.nextId > Number.MAX_SAFE_INTEGER - 1) this.nextId = 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        resolve({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32603, message: `Request timed out after ${this.requestTimeoutMs} ms` },
        });
      }, this.requestTimeoutMs);
      timer.unref();
      this.pending.set(id, { originalId: message.id, resolve, timer });
      this.onmessage?.({ ...message, id } as JSONRPCMessage, { authInfo });
    });
  }

  /** Delivers a notification (or a client's response): no answer. */
  notify(message: JSONRPCMessage, authInfo: AuthInfo): void {
    this.onmessage?.(message, { authInfo });
  }

  get inFlight(): number {
    return this.pending.size;
  }
}

export class SharedServer {
  private constructor(
    private readonly server: McpServer,
    private readonly transport: MultiplexTransport,
  ) {}

  static async start(factory: () => McpServer, requestTimeoutMs = 120_000): Promise<SharedServer> {
    const server = factory();
    const transport = new MultiplexTransport(requestTimeoutMs);
    await server.connect(transport);
    return new SharedServer(server, transport);
  }

  /**
   * Serves already-validated JSON-RPC messages; resolves with the responses to its requests, in
   * order (empty when there were only notifications or responses).
   */
  async dispatch(messages: JSONRPCMessage[], authInfo: AuthInfo): Promise<JSONRPCMessage[]> {
    const answers: Promise<JSONRPCMessage>[] = [];
    for (const [i, message] of messages.entries()) {
      // A batch yields to the event loop between its messages: its tool calls (synchronous store
      // queries) would otherwise run back to back and hold up every other request meanwhile.
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (isJSONRPCRequest(message)) {
        // The SDK sees an internal id: the client's travels with the message for its span.
        answers.push(this.transport.request(message, withFacts(authInfo, { requestId: message.id })));
      } else if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') continue;
      else this.transport.notify(message, authInfo);
    }
    return Promise.all(answers);
  }

  get inFlight(): number {
    return this.transport.inFlight;
  }

  async close(): Promise<void> {
    await this.server.close();
  }
}
