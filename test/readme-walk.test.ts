// Issue 16, done when: the README's set-up, as written, on a fresh clone. Clone the repository's committed
// state into a temporary folder, run each line of the README's "Set up" block in order (npm install, npm
// link into a temporary global prefix so the machine's own is untouched, once-checkout --help, doctor), then
// buy once through exactly the command in mcp.json. Slow (an npm install), bounded.
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { purchaseThrough, readMcpJson } from './support/mcp-json.js';
import { tempDir } from './support/server-process.js';

const ROOT = resolve(import.meta.dirname, '..');
/** About a minute here; minutes more if sqlite3 must compile. */
const WALK_MS = 300_000;

/** The command lines of the README's "## Set up" sh block, comments stripped. */
function setUpCommands(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## Set up'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** The variables of this process among `names` that are set. */
function passThrough(names: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(names.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]));
}

interface Ran {
  command: string;
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((done, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => done({ command, status, stdout, stderr, ms: Math.round(performance.now() - started) }));
  });
}

/**
 * This machine reaches the npm registry but not GitHub, where sqlite3's install fetches its prebuilt binary;
 * without it sqlite3 compiles from source for minutes. The binary already built for this checkout stands in for
 * the download, through prebuild-install's local-prebuilds folder, named in a .prebuild-installrc above the
 * clone (where its rc lookup finds it; nothing in the clone or the commands changes). Without the binary, or
 * under another name, sqlite3 compiles as it would for a user.
 */
function offerPrebuiltSqlite(work: string): void {
  const require = createRequire(join(ROOT, 'package.json'));
  const pkgPath = require.resolve('sqlite3/package.json');
  const built = join(dirname(pkgPath), 'build', 'Release', 'node_sqlite3.node');
  if (!existsSync(built)) return;
  const { version } = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string };
  const dir = join(work, 'prebuilds');
  mkdirSync(dir, { recursive: true });
  for (const napi of [3, 6]) {
    const tarball = join(dir, `sqlite3-v${version}-napi-v${napi}-${process.platform}-${process.arch}.tar.gz`);
    execFileSync('tar', ['-czf', tarball, '-C', dirname(pkgPath), 'build/Release/node_sqlite3.node']);
  }
  writeFileSync(join(work, '.prebuild-installrc'), `local-prebuilds=${dir}\n`);
}

describe('issue 16: the README set-up walked as written on a fresh clone', () => {
  it(
    'issue 16 cases 1-3: clone, npm install (no allowScripts warning), npm link, once-checkout --help and doctor from the PATH, one purchase through the exact mcp.json command',
    async () => {
      const started = performance.now();
      const work = tempDir('once-readme-');
      const clone = join(work, 'once-checkout');
      const prefix = join(work, 'npm-global');
      const home = join(work, 'home');
      mkdirSync(home);
      const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      execFileSync('git', ['clone', '--quiet', ROOT, clone]);
      execFileSync('git', ['checkout', '--quiet', head], { cwd: clone });

      const env: NodeJS.ProcessEnv = {
        PATH: `${join(prefix, 'bin')}:${process.env.PATH}`,
        HOME: process.env.HOME, // npm's cache lives there
        XDG_STATE_HOME: join(home, 'state'), // the default ledger, away from the machine's own
        npm_config_prefix: prefix, // npm link's global folder: a temporary one
        npm_config_prefer_offline: 'true',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
        npm_config_update_notifier: 'false',
        // How this machine reaches the registry (its CA, its proxy), as it does for the person who clones: a
        // dependency not yet in npm's cache is fetched like any other.
        ...passThrough(['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NIX_SSL_CERT_FILE', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']),
      };
      offerPrebuiltSqlite(work);
      const commands = setUpCommands(readFileSync(join(clone, 'README.md'), 'utf8'));
      expect(commands).toEqual(['npm install', 'npm link --ignore-scripts', 'once-checkout --help', 'once-checkout doctor']);
      const ran: Ran[] = [];
      for (const command of commands) {
        const run = await sh(command, clone, env);
        ran.push(run);
        expect(run.status, `${command}\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-3000)}`).toBe(0);
      }
      const [install, link, help, doctor] = ran;
      expect(install.stderr).not.toMatch(/not yet covered by allowScripts/);
      expect(link.stderr).not.toMatch(/install-scripts/);
      expect(existsSync(join(prefix, 'bin', 'once-checkout'))).toBe(true);
      expect(help.stdout).toMatch(/^once-checkout \d+\.\d+\.\d+: exactly-once checkout for AI agents/);
      expect(doctor.stdout).toMatch(/^ok {2,}store {2,}no ledger at sqlite:\/\/.*\/state\/once-checkout\/ledger\.db yet/m);
      expect(doctor.stdout.trim().split('\n').at(-1)).toBe('All checks passed.');

      // A client configured with mcp.json, started by the user who did the above.
      const purchase = await purchaseThrough(readMcpJson(clone), { PATH: env.PATH!, HOME: home, XDG_STATE_HOME: join(home, 'state') }, home);
      expect(purchase.tools).toHaveLength(5);
      const done = purchase.completed.structuredContent as { checkout: { status: string; order?: { id: string } } };
      expect(done.checkout.status, purchase.stderr).toBe('completed');
      expect(done.checkout.order?.id).toMatch(/^ord_/);

      // The purchase is on record, read back from the PATH as an operator would.
      const list = await sh('once-checkout ledger list --json', clone, { ...env, XDG_STATE_HOME: join(home, 'state') });
      expect(JSON.parse(list.stdout).map((r: { operation: string; status: string }) => `${r.operation} ${r.status}`)).toEqual(['create succeeded', 'complete succeeded']);
      console.log(`README walk: ${ran.map((r) => `${r.command} ${r.ms} ms`).join(', ')}; total ${Math.round(performance.now() - started)} ms`);
    },
    WALK_MS,
  );
});
