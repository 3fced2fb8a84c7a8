// The layering is a rule, not a hope: dependency-cruiser checks src/ and tools/ against .dependency-cruiser.cjs
// (no cycles; backends never into checkout; server and tools apart; server never into operator; only the CLI
// reaches bench/ and chaos/). Run it by hand with `npx depcruise --config .dependency-cruiser.cjs src tools`.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPCRUISE = fileURLToPath(new URL('../node_modules/dependency-cruiser/bin/dependency-cruise.mjs', import.meta.url));

describe('the layers', () => {
  it('break none of the dependency rules', async () => {
    const run = await promisify(execFile)(process.execPath, [DEPCRUISE, '--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'src', 'tools'], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      (done) => ({ code: 0, out: done.stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? 1, out: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
    );
    expect(run.out.trim() === '' || run.code === 0 ? '' : run.out).toBe('');
    expect(run.code).toBe(0);
  });
});
