// The repository's mcp.json, read as a client reads it, and one purchase through exactly that command.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface McpServerEntry {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export function readMcpJson(root: string): McpServerEntry {
  const config = JSON.parse(readFileSync(resolve(root, 'mcp.json'), 'utf8')) as { mcpServers: Record<string, McpServerEntry> };
  return config.mcpServers['once-checkout'];
}

export interface Purchase {
  tools: string[];
  created: CallToolResult;
  completed: CallToolResult;
  stderr: string;
}

const ADDRESS = { name: 'Ada Lovelace', line_one: '1 Analytical Way', city: 'London', state: 'LDN', country: 'GB', postal_code: 'N1 9GU' };

/**
 * Spawns the entry's command and arguments exactly (no shell, no node prefix) with its env on top of `base`, in `cwd`,
 * lists the tools and buys one mug from the sandbox merchant.
 */
export async function purchaseThrough(entry: McpServerEntry, base: Record<string, string>, cwd: string): Promise<Purchase> {
  // A client starts the server from its own folder, not from the clone (npx would find the clone's bin there).
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: { ...base, ...entry.env }, cwd, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'mcp-json-check', version: '1.0.0' });
  try {
    await client.connect(transport);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
    const created = await call('create_checkout', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } });
    const id = (created.structuredContent as { checkout?: { id: string } }).checkout?.id ?? '';
    const completed = await call('complete_checkout', {
      checkout_session_id: id,
      payment_data: { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } },
    });
    return { tools, created, completed, stderr };
  } finally {
    await client.close().catch(() => {});
  }
}
