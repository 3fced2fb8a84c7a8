// The command line: one small file per command.
import { ConfigError } from '../config/config-error.js';
import { VERSION } from '../version.js';
import { merchant, MERCHANT_HELP } from './merchant.js';
import { serve, SERVE_HELP } from './serve.js';

const USAGE = `once-checkout ${VERSION}: exactly-once checkout for AI agents (an MCP server)

Usage:
  once-checkout [serve]            MCP server on stdio (what an MCP client spawns)
  once-checkout merchant --port N  the sandbox merchant as a standalone ACP merchant over HTTP
  once-checkout --help | --version

Run 'once-checkout COMMAND --help' for a command's flags. Configuration: README.md.`;

type Command = { run(argv: string[]): Promise<void>; help: string };

function commands(): Record<string, Command> {
  return { serve: { run: serve, help: SERVE_HELP }, merchant: { run: merchant, help: MERCHANT_HELP } };
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
    await command.run(args);
    return -1; // still running (a server)
  } catch (error) {
    const line = error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error);
    process.stderr.write(`once-checkout: ${line}\n`);
    return error instanceof ConfigError ? 78 : 1;
  }
}
