// Issue 16, case 7: the rules the help texts, messages, comments and tests cite (R1…R15) are in the repository,
// each with tests that exist and prove it, and the architecture page names files that exist.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';

const ROOT = resolve(import.meta.dirname, '..');
const guarantees = readFileSync(join(ROOT, 'docs', 'guarantees.md'), 'utf8');
const architecture = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');

/** Test sources as their names read (`\'` in a quoted name is a quote). */
function testSource(file: string): string {
  return readFileSync(join(ROOT, 'test', file), 'utf8').replace(/\\'/g, "'");
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(ROOT, dir, f), 'utf8'));
}

/** The rule's section: from its heading to the next. */
function section(rule: number): string {
  const start = guarantees.indexOf(`## R${rule}. `);
  if (start < 0) return '';
  const next = guarantees.indexOf('\n## ', start + 1);
  return guarantees.slice(start, next < 0 ? undefined : next);
}

describe('issue 16 case 7: docs/guarantees.md', () => {
  it.each(Array.from({ length: 15 }, (_, i) => i + 1))('R%i is stated in the project\'s words, with tests that exist and name it', (rule) => {
    const text = section(rule);
    expect(text, `no "## R${rule}." section`).not.toBe('');
    const cited = [...text.matchAll(/^- `test\/([^`]+)` — (.+)$/gm)];
    expect(cited.length).toBeGreaterThan(0);
    for (const [, file, name] of cited) {
      expect(existsSync(join(ROOT, 'test', file)), file).toBe(true);
      expect(testSource(file), `${file} has no test named "${name}"`).toContain(name);
      expect(name).toMatch(new RegExp(`R${rule}\\b|R\\d+[–-]R\\d+`));
    }
  });

  it('every rule number cited in src/, tools/ and test/ has its section (none beyond the fifteen)', () => {
    const cited = new Set<number>();
    for (const text of [...sources('src'), ...sources('tools'), ...sources('test')]) {
      for (const [, n] of text.matchAll(/\bR(\d{1,2})\b/g)) cited.add(Number(n));
    }
    for (const n of cited) expect(section(n), `R${n} is cited but not in docs/guarantees.md`).not.toBe('');
  });

  it('help texts that cite a rule point to docs/guarantees.md', async () => {
    const usage = await runCli(['--help'], {});
    expect(usage.stdout).toMatch(/docs\/guarantees\.md/);
    for (const command of ['doctor', 'reconcile']) {
      const help = (await runCli([command, '--help'], {})).stdout;
      for (const [cite] of help.matchAll(/\(R\d+[^)]*\)/g)) expect(cite).toMatch(/docs\/guarantees\.md/);
    }
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toMatch(/\[docs\/guarantees\.md\]\(docs\/guarantees\.md\)/);
  });
});

describe('issue 16 case 7: docs/architecture.md', () => {
  it('names only files and folders that exist', () => {
    const paths = [...architecture.matchAll(/`((?:src|tools|test)\/[A-Za-z0-9_./-]+?)`/g)].map(([, p]) => p).filter((p) => !p.includes('<'));
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });

  it('says where to add a backend, a store and a tool', () => {
    for (const heading of ['### A backend', '### A store', '### A tool']) expect(architecture).toContain(heading);
  });
});
