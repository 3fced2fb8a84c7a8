// createServer(deps): an MCP server whose tools are the plain objects its caller passes (tools/ for the product).
// It validates arguments itself so that bad input gets a structured `invalid_input` naming the field, and nothing is stored or sent.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ErrorCode,
  type CallToolRequest,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Span } from '@opentelemetry/api';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';
import { resultOutput } from './output-schema.js';
import type { CheckoutResult, Checkouts } from '../checkout/checkouts.js';
import { failures, type Failure } from '../checkout/failure.js';
import { cleanText, safeCode } from '../commerce/merchant-text.js';
import type { Logger } from '../log.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { inToolSpan, recordToolCall } from '../telemetry/tool-call.js';
import { findCardNumber } from './card-numbers.js';
import { elicitationConfirm } from './confirm.js';
import { describeResult } from './describe.js';
import { checkoutLink, registerCheckoutResources, type CheckoutResourceDeps } from './resources.js';
import type { RateLimiter } from './rate-limit.js';
import type { ToolDefinition } from '../tool-definition.js';

export interface ServerDeps {
  checkouts: Checkouts;
  /** Who is buying, for every call on this connection. */
  principal: string;
  logger: Logger;
  version: string;
  /** What the server offers, in the order clients list them. */
  tools: ToolDefinition[];
  /** Serves `checkout://{id}` (the checkout and its ledger timeline) when given. */
  resources?: CheckoutResourceDeps;
  /** Per-principal limit on mutating calls, shared by every session of this process; none when absent. */
  rateLimiter?: RateLimiter;
  /** Tool-call metrics (spans go through @opentelemetry/api whether or not this is given). */
  telemetry?: Telemetry;
}

type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** JSON Schema for MCP: no `$schema` (clients compile it with their own draft). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Tool['inputSchema'] {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest as Tool['inputSchema'];
}

const OUTPUT_SCHEMA = {
  ...jsonSchema(resultOutput, 'output'),
  anyOf: [{ required: ['checkout', 'idempotency'] }, { required: ['error'] }],
} as Tool['outputSchema'];

export function createServer(deps: ServerDeps): Server {
  const tools = deps.tools;
  const server = new Server(
    { name: 'once-checkout', title: 'once-checkout: exactly-once checkout for agents', version: deps.version },
    {
      capabilities: { tools: {} },
      instructions:
        'Buy with create_checkout → update_checkout (shipping, buyer) → complete_checkout. Every tool is safe to call again with the same arguments: a repeat returns the recorded result (replayed: true) and never buys twice. For a deliberate second order of the same cart, pass a new task_id.',
    },
  );

  const listed: Tool[] = tools.map((tool) => ({
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: jsonSchema(tool.input, 'input'),
    outputSchema: OUTPUT_SCHEMA,
    annotations: tool.annotations,
  }));

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listed }));
  if (deps.resources) registerCheckoutResources(server, deps.resources, deps.principal, deps.checkouts);

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = tools.find((t) => t.name === request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${request.params.name}`);
    // One span per call, its parent the caller's trace context from params._meta (traceparent).
    const callInfo = { meta: request.params._meta, requestId: extra.requestId, sessionId: extra.sessionId, headers: extra.requestInfo?.headers };
    return inToolSpan(tool.name, deps.principal, callInfo, (span) => callTool(tool, request, extra, span));
  });

  const callTool = async (tool: ToolDefinition, request: CallToolRequest, extra: ToolExtra, span: Span): Promise<CallToolResult> => {
    const started = performance.now();
    const admitted = admit(tool, request.params.arguments ?? {}, deps);
    let result: CheckoutResult;
    if (!admitted.ok) {
      result = { ok: false, failure: admitted.failure };
    } else {
      const progressToken = request.params._meta?.progressToken;
      result = await tool.handle(admitted.data, {
        principal: deps.principal,
        checkouts: deps.checkouts,
        hooks: {
          onWait: progressToken === undefined
            ? undefined
            : (waitedMs) => {
                void extra
                  .sendNotification({
                    method: 'notifications/progress',
                    params: { progressToken, progress: waitedMs, message: 'Waiting for an identical call that is already running' },
                  })
                  .catch(() => {});
              },
          confirm: elicitationConfirm(server, extra, deps.logger, deps.principal),
        },
      });
    }
    deps.logger.log(result.ok ? 'info' : 'warn', 'tool_call', {
      principal: deps.principal,
      tool: tool.name,
      operation: tool.name.replace(/_checkout$/, ''),
      checkout: result.ok ? result.checkout.id : undefined,
      key: result.idempotency?.key,
      outbound_key: result.idempotency?.outbound_key,
      outcome: result.ok ? result.idempotency.outcome : result.failure.code,
      replayed: result.idempotency?.replayed,
      attempt: result.idempotency?.attempt,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
    });
    recordToolCall(span, deps.telemetry, tool.name, result, (performance.now() - started) / 1000, !admitted.ok && admitted.cardNumber === true);
    return toCallToolResult(result);
  };

  return server;
}

export function toCallToolResult(result: CheckoutResult): CallToolResult {
  if (result.ok) {
    const structured = { checkout: result.checkout, idempotency: result.idempotency };
    return {
      content: [{ type: 'text', text: `${describeResult(result)}\n${JSON.stringify(structured)}` }, checkoutLink(result.checkout.id)],
      structuredContent: structured,
    };
  }
  // A failure about the checkout itself (checkout_changed) carries the live checkout for the agent to show (R14).
  const structured = result.checkout ? { error: result.failure, checkout: result.checkout } : { error: result.failure };
  const text = `${safeCode(result.failure.code)}: ${cleanText(result.failure.message, 2000)}`;
  return {
    isError: true,
    // One line whatever reached the message: merchant words in it are already quoted (checkout/failure.ts).
    content: [{ type: 'text', text: result.checkout ? `${text}\n${JSON.stringify(structured)}` : text }],
    structuredContent: structured,
  };
}

/**
 * What a call must pass before its handler runs, in order: no card number anywhere (the arguments are never
 * stored or logged then), valid arguments, and the principal's rate limit for mutating tools.
 */
function admit(
  tool: ToolDefinition,
  args: Record<string, unknown>,
  deps: ServerDeps,
): { ok: true; data: Record<string, unknown> } | { ok: false; failure: Failure; cardNumber?: true } {
  const cardAt = findCardNumber(args);
  if (cardAt !== undefined) {
    return { ok: false, failure: failures.invalid_input({ kind: 'card_number', at: cardAt }), cardNumber: true };
  }
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) return { ok: false, failure: failures.invalid_input({ kind: 'arguments', tool: tool.name, ...fieldsAtFault(parsed.error) }) };
  if (deps.rateLimiter && tool.annotations.readOnlyHint !== true) {
    const decision = deps.rateLimiter.take(deps.principal);
    if (!decision.allowed) {
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      return { ok: false, failure: failures.rate_limited(tool.name, deps.rateLimiter.perMinute, seconds) };
    }
  }
  return { ok: true, data: parsed.data as Record<string, unknown> };
}

/** The first few fields at fault, each with what it must be (the failure's words say what to do). */
function fieldsAtFault(error: z.ZodError): { problems: string[]; total: number } {
  const problems = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    const field = path === '' ? 'arguments' : path;
    if (issue.code === 'unrecognized_keys') return `${field}: unknown field(s) ${issue.keys.join(', ')}`;
    return `${field}: ${issue.message}`;
  });
  return { problems, total: error.issues.length };
}
