// The command line: one small file per command, imported only when it runs, so that serving on stdio loads
// neither the benchmark, the chaos rig, nor a store driver it does not use.
import { ConfigError } from '../config/config-error.js';
import { printable } from '../operator/printable.js';
import { StoreRefusedError } from '../store/store-refusal.js';
import { VERSION } from '../version.js';
import { namedAsGiven } from './args.js';

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

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => import('./serve.js').then((m) => ({ run: (argv) => m.serve(argv), help: m.SERVE_HELP })),
  merchant: async () => import('./merchant.js').then((m) => ({ run: m.merchant, help: m.MERCHANT_HELP })),
  ledger: async () => import('./ledger.js').then((m) => ({ run: m.ledger, help: m.LEDGER_HELP })),
  reconcile: async () => import('./reconcile.js').then((m) => ({ run: m.reconcile, help: m.RECONCILE_HELP })),
  doctor: async () => import('./doctor.js').then((m) => ({ run: m.doctor, help: m.DOCTOR_HELP })),
  chaos: async () => import('./chaos.js').then((m) => ({ run: m.chaos, help: m.CHAOS_HELP })),
  bench: async () => import('./bench.js').then((m) => ({ run: m.bench, help: m.BENCH_HELP })),
};

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
  const name = first === undefined || first.startsWith('--') ? 'serve' : first;
  const args = first === undefined || first.startsWith('--') ? argv : rest;
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`once-checkout: unknown command "${name}".\n${USAGE}\n`);
    return 2;
  }
  const command = await load();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    const code = await command.run(args);
    return code ?? -1; // a server is still running
  } catch (error) {
    // A store that can never work as configured is a configuration mistake like any other.
    const mistake = error instanceof ConfigError || error instanceof StoreRefusedError;
    const line = mistake ? namedAsGiven(error.message, args) : error instanceof Error ? error.message : String(error);
    process.stderr.write(`once-checkout: ${printable(line)}\n`); // an error may quote a merchant's words
    return mistake ? EX_CONFIG : 1;
  }
}
