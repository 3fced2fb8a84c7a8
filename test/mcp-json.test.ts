// Issue 16, case 1: mcp.json works for a user who followed the README (the `once-checkout` bin on the PATH,
// as `npm link` puts it there): a client spawning exactly its command and arguments gets the tools and can buy.
// The README walk (readme-walk.test.ts) does the same after a real clone, install and link.
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMcpJson, purchaseThrough } from './support/mcp-json.js';
import { BIN, tempDir } from './support/server-process.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('issue 16 case 1: mcp.json', () => {
  it('names the linked bin, not a package the registry does not have (npx -y once-checkout is for after publishing)', () => {
    const entry = readMcpJson(ROOT);
    expect(entry.command).toBe('once-checkout');
    expect(entry.args).toEqual(['serve']);
    expect(JSON.stringify(entry)).not.toMatch(/npx/);
  });

  it('spawned exactly as written, with once-checkout on the PATH, it lists the five tools and completes one purchase', async () => {
    // What `npm link` puts on the PATH: an executable named once-checkout that runs the built server.
    const bin = tempDir('once-mcpjson-');
    writeFileSync(join(bin, 'once-checkout'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'once-checkout'), 0o755);
    const home = tempDir('once-mcpjson-');
    const purchase = await purchaseThrough(readMcpJson(ROOT), { PATH: `${bin}:${process.env.PATH}`, HOME: home }, home);
    expect(purchase.tools).toEqual(['create_checkout', 'update_checkout', 'complete_checkout', 'get_checkout', 'cancel_checkout']);
    expect(purchase.created.isError, JSON.stringify(purchase.created.structuredContent)).toBeFalsy();
    const done = purchase.completed.structuredContent as { checkout: { status: string; order?: { id: string } } };
    expect(done.checkout.status).toBe('completed');
    expect(done.checkout.order?.id).toMatch(/^ord_/);
    expect(purchase.stderr).toContain(`${home}/.local/state/once-checkout/ledger.db`); // the default store, in the user's home
  });
});
