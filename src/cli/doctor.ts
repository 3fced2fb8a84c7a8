// `once-checkout doctor`: one line per check, a fix for each failure, non-zero exit on any failure.
import { runDoctor, type Check } from '../operator/doctor.js';
import { printable, terminalJson } from '../operator/printable.js';
import { namedAsGiven, parseArgs } from './args.js';

export const DOCTOR_HELP = `once-checkout doctor: check the configuration, the store, retention (R8 in docs/guarantees.md) and the backend

Usage: once-checkout doctor [--json] [--store URL] [--backend NAME] [--ttl 23h] …

Takes the same environment and flags as serve and checks them step by step: one line per check, with the
fix for each failure. Exits 1 when any check fails (warnings do not fail).`;

const MARK: Record<Check['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

export async function doctor(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { '--json': false });
  const checks = (await runDoctor(args.env)).map((c) => ({ ...c, detail: namedAsGiven(c.detail, argv) }));
  const failed = checks.filter((c) => c.status === 'fail').length;
  if (args.options.has('--json')) {
    process.stdout.write(`${terminalJson({ ok: failed === 0, checks })}\n`);
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    const lines = checks.map((c) => `${MARK[c.status]}  ${c.name.padEnd(width)}  ${printable(c.detail)}`);
    lines.push(failed === 0 ? 'All checks passed.' : `${failed} check(s) failed.`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return failed === 0 ? 0 : 1;
}
