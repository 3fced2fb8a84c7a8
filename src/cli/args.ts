// Flags of the same meaning as an environment variable override it (INTERFACE.md).
import { ConfigError } from '../config/config-error.js';

export const FLAG_TO_VARIABLE: Record<string, string> = {
  '--store': 'ONCE_STORE',
  '--backend': 'ONCE_BACKEND',
  '--principal': 'ONCE_PRINCIPAL',
  '--ttl': 'ONCE_TTL',
  '--dedup-window': 'ONCE_DEDUP_WINDOW',
  '--max-order-amount': 'ONCE_MAX_ORDER_AMOUNT',
  '--rate-limit': 'ONCE_RATE_LIMIT',
  '--log': 'ONCE_LOG',
  '--sandbox-faults': 'ONCE_SANDBOX_FAULTS',
  '--catalog': 'ONCE_CATALOG',
};

export interface ParsedArgs {
  /** The environment with configuration flags folded in. */
  env: NodeJS.ProcessEnv;
  /** Flags the command handles itself (e.g. --port, --http, --json), by name. */
  options: Map<string, string | true>;
  positional: string[];
}

/** `own` lists the command's own flags: the value-taking ones map to true. */
export function parseArgs(argv: string[], own: Record<string, boolean>, env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const out: ParsedArgs = { env: { ...env }, options: new Map(), positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out.positional.push(arg);
      continue;
    }
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const variable = FLAG_TO_VARIABLE[name];
    const takesValue = variable !== undefined || own[name] === true;
    if (variable === undefined && !(name in own)) {
      throw new ConfigError(name, 'is not a flag of this command', 'Run with --help to see the flags');
    }
    let value: string | true = true;
    if (takesValue) {
      value = inline ?? argv[++i];
      if (value === undefined) throw new ConfigError(name, 'needs a value', `Write ${name} VALUE`);
    }
    if (variable) out.env[variable] = value as string;
    else out.options.set(name, value);
  }
  return out;
}

/**
 * `text` in the words the person typed: a value given as a flag is named by that flag, not by the variable
 * it overrides (`--store mysql://x` is reported as `--store: …`, not `ONCE_STORE: …`).
 */
export function namedAsGiven(text: string, argv: readonly string[]): string {
  let out = text;
  for (const [flag, variable] of Object.entries(FLAG_TO_VARIABLE)) {
    if (argv.some((arg) => arg === flag || arg.startsWith(`${flag}=`))) out = out.replace(new RegExp(`\\b${variable}\\b`, 'g'), flag);
  }
  return out;
}
