// `once-checkout serve` on stdio with a SQLite store loads neither pg nor the Redis client, nor the benchmark
// or the chaos rig: commands and store drivers are imported only when they run.
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, tempDir } from './support/server-process.js';

const dir = tempDir('once-loads-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve on stdio with SQLite', () => {
  it('loads no PostgreSQL or Redis driver, and nothing of bench/ or chaos/', async () => {
    const log = join(dir, 'modules.log');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', resolve(import.meta.dirname, 'support', 'module-log.mjs'), BIN, 'serve'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        ONCE_STORE: `sqlite://${join(dir, 'ledger.db')}`,
        ONCE_BACKEND: 'sandbox',
        ONCE_LOG: 'warn',
        ONCE_TEST_MODULE_LOG: log,
      },
      stderr: 'ignore',
    });
    const client = new Client({ name: 'once-checkout-tests', version: '1.0.0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('create_checkout');
    await client.close();
    const loaded = readFileSync(log, 'utf8').split('\n');
    // The log works: it saw the SQLite driver and the server itself.
    expect(loaded.some((line) => line.includes('/node_modules/sqlite3/'))).toBe(true);
    expect(loaded.some((line) => line.endsWith('/dist/src/cli/serve.js'))).toBe(true);
    const heavy = loaded.filter((line) =>
      /\/node_modules\/(pg|pg-[a-z-]+|@keyv\/postgres|@keyv\/redis|@redis\/[a-z-]+|redis)\/|^require (pg|redis|@redis\/client|@keyv\/(postgres|redis))$|\/dist\/src\/(bench|chaos)\//.test(line),
    );
    expect(heavy).toEqual([]);
  });
});
