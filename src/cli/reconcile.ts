// `once-checkout reconcile`: settles unknown and abandoned pending records from the backend; never sends.
import { openApp } from '../app.js';
import { loadConfig } from '../config/config.js';
import { reconcileSweep, sweepSummary, unknownOrders, type SweepEntry } from '../operator/reconcile-sweep.js';
import { printable, terminalJson } from '../operator/printable.js';
import { parseArgs } from './args.js';

export const RECONCILE_HELP = `once-checkout reconcile: settle unknown and abandoned pending records against their backend

Usage: once-checkout reconcile [--json] [--store URL] [--backend NAME]

Reads each open record's checkout at the provider (R6 in docs/guarantees.md) and records what it shows. It never runs a new
attempt: a create whose answer was lost (no checkout id yet) is listed as needing the agent's retry,
which resends the same key. The server runs the same sweep periodically.
It also lists every order a merchant's signed event named for a checkout this ledger does not hold
(verdict unknown_order): such an order is recorded when it arrives, never dropped.`;

export async function reconcile(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { '--json': false });
  const config = loadConfig(args.env);
  const app = await openApp(config, undefined, { mustExist: true });
  try {
    const entries = [...(await reconcileSweep(app.ledger, app.backend)), ...(await unknownOrders(app.ledger))];
    if (args.options.has('--json')) process.stdout.write(`${terminalJson(entries)}\n`);
    else process.stdout.write(`${[...entries.map(line), sweepSummary(entries)].join('\n')}\n`);
    return 0;
  } finally {
    await app.close();
  }
}

function line(entry: SweepEntry): string {
  if (entry.verdict === 'unknown_order') return printable(`unknown order ${entry.key.replace(/^order:/, '')} ${entry.message.replace(/^order \S+ /, '')}`);
  const verdict = entry.verdict === 'needs_retry' ? 'needs retry' : entry.verdict;
  const where = entry.anchor ? `checkout ${entry.anchor}` : 'no checkout id';
  // The message quotes the provider (a status, a failure's code and words): shown with controls escaped.
  return printable(`${verdict.padEnd(11)} ${entry.operation.padEnd(8)} ${entry.key.slice(0, 16)}  ${where}, ${entry.before} -> ${entry.after}: ${entry.message}`);
}
