// The MCP servers under test: real processes over stdio, which chaos SIGKILLs mid-call and restarts on the
// same store, as a crashing host would.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface ServerSpec {
  bin: string;
  env: Record<string, string>;
}

interface Slot {
  index: number;
  client?: Client;
  transport?: StdioClientTransport;
  /** Resolves when the slot has a live server again. */
  ready: Promise<void>;
  inFlight: number;
}

export class ServerPool {
  private readonly slots: Slot[];
  kills = 0;
  restarts = 0;
  stderr: string[] = [];

  constructor(
    private readonly spec: ServerSpec,
    count: number,
    private readonly random: () => number,
  ) {
    this.slots = Array.from({ length: count }, (_, index) => ({ index, ready: Promise.resolve(), inFlight: 0 }));
  }

  /** Starts every server; one that stops at start (a store it refuses, say) fails the run with its own words. */
  async start(): Promise<void> {
    try {
      await Promise.all(this.slots.map((slot) => this.boot(slot)));
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 100)); // its last line may still be on its way
      const said = this.stderr.join('').trim().split('\n').pop()?.replace(/^once-checkout: /, '').trim();
      throw new Error(said ? `a server stopped at start: ${said}` : (error as Error).message, { cause: error });
    }
  }

  private boot(slot: Slot): Promise<void> {
    slot.ready = (async () => {
      const transport = new StdioClientTransport({ command: process.execPath, args: [this.spec.bin], env: this.spec.env, stderr: 'pipe' });
      transport.stderr?.on('data', (chunk: Buffer) => {
        if (this.stderr.length < 200) this.stderr.push(chunk.toString());
      });
      const client = new Client({ name: 'once-checkout-chaos', version: '1.0.0' });
      await client.connect(transport);
      slot.client = client;
      slot.transport = transport;
    })();
    return slot.ready;
  }

  /** One call on a random live server (waiting for a restart when none is up). */
  async call(name: string, args: Record<string, unknown>, timeoutMs: number): Promise<CallToolResult> {
    const slot = this.slots[Math.floor(this.random() * this.slots.length)];
    // A kill may land between the wait and the call: wait for the slot's newest start.
    while (!slot.client) await slot.ready;
    const client = slot.client;
    slot.inFlight += 1;
    try {
      return (await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs })) as CallToolResult;
    } finally {
      slot.inFlight -= 1;
    }
  }

  /** SIGKILLs a server, preferring one with calls in flight, and starts it again on the same store. */
  async killOne(): Promise<void> {
    const busy = this.slots.filter((s) => s.inFlight > 0 && s.client);
    const candidates = busy.length > 0 ? busy : this.slots.filter((s) => s.client);
    if (candidates.length === 0) return;
    const slot = candidates[Math.floor(this.random() * candidates.length)];
    const pid = slot.transport?.pid;
    const client = slot.client;
    slot.client = undefined;
    let restarted!: () => void;
    slot.ready = new Promise<void>((resolve) => (restarted = resolve));
    if (pid) process.kill(pid, 'SIGKILL');
    this.kills += 1;
    await client?.close().catch(() => {});
    await this.boot(slot).then(restarted, restarted);
    this.restarts += 1;
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map(async (slot) => slot.client?.close().catch(() => {})));
  }
}
