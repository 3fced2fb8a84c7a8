// The command line: one small file per command.
import { ConfigError } from '../config/config-error.js';
import { printable } from '../operator/printable.js';
import { VERSION } from '../version.js';
import { namedAsGiven } from './args.js';
import { bench, BENCH_HELP } from './bench.js';
import { doctor, DOCTOR_HELP } from './doctor.js';
import { ledger, LEDGER_HELP } from './ledger.js';
import { chaos, CHAOS_HELP } from './chaos.js';
import { merchant, MERCHANT_HELP } from './merchant.js';
import { reconcile, RECONCILE_HELP } from './reconcile.js';
import { serve, SERVE_HELP } from './serve.js';

const USAGE = `once-checkout ${VERSION}: exactly-once checkout for AI agents (an MCP server)

Usage:
  once-checkout [serve]            MCP server on stdio (what an MCP client spawns)
  once-checkout serve --http [HOST:]PORT   MCP server over Streamable HTTP at /mcp (needs ONCE_HTTP_TOKENS)
  once-checkout merchant --port N  the sandbox merchant as a standalone ACP and UCP merchant over HTTP
  once-checkout ledger list|show   reads the ledger: records, attempts, timelines
  once-checkout reconcile          settles unknown and abandoned pending records; never sends
  once-checkout doctor             checks configuration, store, retention and backend
  once-checkout chaos              many agent checkouts through injected faults; proves zero duplicates
  once-checkout bench              what exactly-once costs per store, beside AWS Powertools idempotency
  once-checkout --help | --version

Run 'once-checkout COMMAND --help' for a command's flags. Configuration: README.md.
What it guarantees (the rules R1-R15 cited in messages): docs/guarantees.md.`;

/** Every configuration mistake, whichever variable or flag (sysexits.h EX_CONFIG). */
export const EX_CONFIG = 78;

/** A one-shot command resolves to its exit code; a server resolves to nothing and keeps running. */
type Command = { run(argv: string[]): Promise<void | number>; help: string };

function commands(): Record<string, Command> {
  return {
    serve: { run: serve, help: SERVE_HELP },
    merchant: { run: merchant, help: MERCHANT_HELP },
    ledger: { run: ledger, help: LEDGER_HELP },
    reconcile: { run: reconcile, help: RECONCILE_HELP },
    doctor: { run: doctor, help: DOCTOR_HELP },
    chaos: { run: chaos, help: CHAOS_HELP },
    bench: { run: bench, help: BENCH_HELP },
  };
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const table = commands();
  const name = first === undefined || first.startsWith('--') ? 'serve' : first;
  const args = first === undefined || first.startsWith('--') ? argv : rest;
  const command = table[name];
  if (!command) {
    process.stderr.write(`once-checkout: unknown command "${name}".\n${USAGE}\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    const code = await command.run(args);
    return code ?? -1; // a server is still running
  } catch (error) {
    const line = error instanceof ConfigError ? namedAsGiven(error.message, args) : error instanceof Error ? error.message : String(error);
    process.stderr.write(`once-checkout: ${printable(line)}\n`); // an error may quote a merchant's words
    return error instanceof ConfigError ? EX_CONFIG : 1;
  }
}
