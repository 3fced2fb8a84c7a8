// Issue 16, case 5: operator commands that read (ledger list/show, doctor, reconcile) never create a store.
// Pointed at a ledger that is not there, they say "no ledger at …" instead of showing an empty one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/server-process.js';
import { freshPostgresDatabase, postgresAvailable } from './support/services.js';

const pgUp = await postgresAvailable();

describe('issue 16 case 5: reading a ledger that does not exist', () => {
  it.each([
    [['ledger', 'list']],
    [['ledger', 'show', 'cs_123']],
    [['reconcile']],
  ])('%o --store sqlite:///typo/… says "no ledger at …", exits 78 and creates neither the directory nor the file', async (args) => {
    const dir = join(tempDir('once-reads-'), 'typo');
    const path = join(dir, 'path.db');
    const run = await runCli([...args, '--store', `sqlite://${path}`], { HOME: tempDir('once-reads-') });
    expect(run.status).toBe(78);
    expect(run.stdout).not.toMatch(/No records/);
    expect(run.stderr.trim()).toBe(
      `once-checkout: --store: no ledger at sqlite://${path} (no such file). Point --store at the store the server uses: this command only reads a ledger, and the server creates one when it first starts`,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('ONCE_STORE names itself when the path came from the environment', async () => {
    const path = join(tempDir('once-reads-'), 'nope', 'ledger.db');
    const run = await runCli(['ledger', 'list'], { ONCE_STORE: `sqlite://${path}` });
    expect(run.stderr).toMatch(/^once-checkout: ONCE_STORE: no ledger at sqlite:\/\/.*nope\/ledger\.db \(no such file\)/);
  });

  it('doctor before the first start: the store check says there is no ledger yet and that the server can create it, and creates nothing', async () => {
    const home = tempDir('once-reads-');
    const run = await runCli(['doctor', '--json'], { HOME: home, XDG_STATE_HOME: join(home, 'state') });
    const report = JSON.parse(run.stdout) as { ok: boolean; checks: Array<{ name: string; status: string; detail: string }> };
    const store = report.checks.find((c) => c.name === 'store')!;
    expect(store.status).toBe('ok');
    expect(store.detail).toMatch(/^no ledger at sqlite:\/\/.*\/state\/once-checkout\/ledger\.db yet: the server creates it when it first starts \(.* is writable\)$/);
    expect(run.status).toBe(0);
    expect(existsSync(join(home, 'state'))).toBe(false);
  });

  it('ledger list on memory:// says a memory ledger lives only inside its server', async () => {
    const run = await runCli(['ledger', 'list', '--store', 'memory://'], {});
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/no ledger at memory:\/\/ \(a memory store lives only inside the process that made it\)/);
  });

  it.runIf(pgUp)('PostgreSQL: a database without the ledger table says "no ledger at …" and the table is still not there after ledger, doctor and reconcile', async () => {
    const url = await freshPostgresDatabase('once_reads_empty');
    const list = await runCli(['ledger', 'list', '--store', url], {});
    expect(list.status).toBe(78);
    expect(list.stderr).toMatch(/no ledger at postgres:\/\/.*once_reads_empty_\d+ \(no once_checkout table in that database\)/);
    const reconcile = await runCli(['reconcile', '--store', url], {});
    expect(reconcile.status).toBe(78);
    const doctor = await runCli(['doctor', '--json', '--store', url], {});
    const store = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find((c) => c.name === 'store')!;
    expect(store).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^no ledger at postgres:\/\/.* yet: the server creates it when it first starts$/) });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query("SELECT to_regclass('public.once_checkout') AS t");
    await client.end();
    expect(rows[0].t).toBeNull();
  });
});
