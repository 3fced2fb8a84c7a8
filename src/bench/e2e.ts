// End to end over MCP stdio: a create_checkout replay against the no-op tool on the same server process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { blocks, latency, median, spread, timed, type Latency, type Spread } from './measure.js';

export interface EndToEnd {
  store: string;
  samples: number;
  replay: Latency;
  noop: Latency;
  /** The median over blocks of samples (taken alternately) of replay p50 / no-op p50. */
  ratioP50: number;
  /** The spread of those per-block ratios. */
  ratio: Spread;
  ratios: number[];
  /** Over all samples: replay p99 / no-op p99. */
  ratioP99: number;
  replayBytes: number;
  noopBytes: number;
}

/** The product's stdio server with the no-op tool added (see cli/bench-server.ts). */
const BIN = fileURLToPath(new URL('../cli/bench-server.js', import.meta.url));
const CART = { items: [{ id: 'sku_tshirt', quantity: 2 }, { id: 'sku_mug', quantity: 1 }], currency: 'usd' };

export async function endToEnd(samples: number, windows: number): Promise<EndToEnd> {
  const dir = mkdtempSync(join(tmpdir(), 'once-bench-e2e-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      ONCE_STORE: `sqlite://${join(dir, 'ledger.db')}`,
      ONCE_BACKEND: 'sandbox',
      ONCE_LOG: 'warn',
    },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'once-checkout-bench', version: '1.0.0' });
  await client.connect(transport);
  try {
    const call = async (name: string) => (await client.callTool({ name, arguments: CART })) as CallToolResult;
    const first = await call('create_checkout');
    if (first.isError) throw new Error(`create_checkout failed: ${JSON.stringify(first.content)}`);
    const replayed = await call('create_checkout');
    if (!(replayed.structuredContent as { idempotency?: { replayed?: boolean } }).idempotency?.replayed) {
      throw new Error('the second create_checkout was not a replay');
    }
    const noop = await call('bench_noop');
    for (let i = 0; i < Math.min(50, samples); i++) await call(i % 2 ? 'bench_noop' : 'create_checkout'); // warm up
    const replaySamples: number[] = [];
    const noopSamples: number[] = [];
    for (let i = 0; i < samples; i++) {
      // Alternate, and swap the order every other round, so drift hits both alike.
      const order = i % 2 ? (['bench_noop', 'create_checkout'] as const) : (['create_checkout', 'bench_noop'] as const);
      for (const name of order) {
        const ms = await timed(() => call(name));
        (name === 'bench_noop' ? noopSamples : replaySamples).push(ms);
      }
    }
    const replay = latency(replaySamples);
    const floor = latency(noopSamples);
    const noopBlocks = blocks(noopSamples, windows);
    const ratios = blocks(replaySamples, windows).map((b, i) => Math.round((latency(b).p50 / latency(noopBlocks[i]).p50) * 1000) / 1000);
    return {
      store: 'sqlite (temp file), sandbox backend',
      samples,
      replay,
      noop: floor,
      ratioP50: Math.round(median(ratios) * 1000) / 1000,
      ratio: spread(ratios),
      ratios,
      ratioP99: Math.round((replay.p99 / floor.p99) * 100) / 100,
      replayBytes: JSON.stringify(replayed).length,
      noopBytes: JSON.stringify(noop).length,
    };
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
