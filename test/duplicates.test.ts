// No copy-pasted logic in src/ and tools/: jscpd (pinned) finds no clone of 5 lines and 50 tokens or more.
// Run it by hand with `npx jscpd --min-lines 5 --min-tokens 50 --format typescript src tools`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JSCPD = fileURLToPath(new URL('../node_modules/jscpd/run-jscpd.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'once-jscpd-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * Repeats still standing, each in code another change is reworking at the same time; remove a line when its
 * repeat is gone, and never add one.
 */
const KNOWN = new Set<string>([]);

interface Clone {
  firstFile: { name: string; start: number };
  secondFile: { name: string; start: number };
}

describe('copy and paste', () => {
  it('finds no repeated logic in src/ and tools/', async () => {
    const args = ['--min-lines', '5', '--min-tokens', '50', '--format', 'typescript', '--reporters', 'json', '--output', out, 'src', 'tools'];
    await promisify(execFile)(process.execPath, [JSCPD, ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(readFileSync(join(out, 'jscpd-report.json'), 'utf8')) as { duplicates: Clone[] };
    const clones = report.duplicates
      .map((d) => ({ pair: `${d.firstFile.name} ~ ${d.secondFile.name}`, at: `${d.firstFile.name}:${d.firstFile.start} ~ ${d.secondFile.name}:${d.secondFile.start}` }))
      .filter((c) => !KNOWN.has(c.pair))
      .map((c) => c.at);
    expect(clones).toEqual([]);
  });
});
