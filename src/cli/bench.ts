// `once-checkout bench`: the cost of exactly-once per store, beside AWS Powertools idempotency.
import { runBench, FULL_SCALE, QUICK_SCALE, type Section } from '../bench/run.js';
import { renderReport } from '../bench/report.js';
import { STORE_NAMES, type StoreName } from '../bench/targets.js';
import { ConfigError } from '../config/config-error.js';
import { parseArgs } from './args.js';

export const BENCH_HELP = `once-checkout bench: what exactly-once costs, per store, beside AWS Powertools idempotency

Usage: once-checkout bench [--stores sqlite,postgres,redis,memory] [--postgres URL] [--redis URL]
                           [--scale 1000,100000,1000000] [--skip scale,e2e,crash,powertools]
                           [--quick] [--json]

  --stores    which stores to measure (default all four; one that cannot be reached is skipped, and said so)
  --postgres  a server where the benchmark may create and drop a database once_bench_<pid>
              (default postgres://postgres@127.0.0.1:5432/postgres)
  --redis     an EMPTY Redis database; the benchmark refuses a non-empty one and empties it at the end
              (default redis://127.0.0.1:6379/15)
  --scale     record counts for the scale rows
  --quick     tiny sizes: a smoke test, not a measurement
  --json      the report as JSON on stdout (progress stays on stderr)

SQLite runs on a temp file. The end-to-end row spawns this server over stdio with a no-op tool added.`;

const SECTIONS: Section[] = ['scale', 'e2e', 'crash', 'powertools'];

function list<T extends string>(flag: string, value: string | true | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value).split(',').map((s) => s.trim()).filter(Boolean);
  const wrong = items.find((i) => !allowed.includes(i as T));
  if (value === true || wrong !== undefined) throw new ConfigError(flag, `"${wrong ?? ''}" is not one of ${allowed.join(', ')}`, `Write ${flag} ${allowed.slice(0, 2).join(',')}`);
  return items as T[];
}

export async function bench(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { '--stores': true, '--postgres': true, '--redis': true, '--scale': true, '--skip': true, '--quick': false, '--json': false });
  const quick = args.options.has('--quick');
  const scaleText = args.options.get('--scale');
  const scale = scaleText === undefined ? (quick ? QUICK_SCALE : FULL_SCALE) : String(scaleText).split(',').map(Number);
  if (scale.some((n) => !Number.isInteger(n) || n < 0)) throw new ConfigError('--scale', `"${String(scaleText)}" is not a list of record counts`, 'Write --scale 1000,100000');
  const report = await runBench({
    stores: list<StoreName>('--stores', args.options.get('--stores'), STORE_NAMES) ?? STORE_NAMES,
    postgresUrl: (args.options.get('--postgres') as string | undefined) ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: (args.options.get('--redis') as string | undefined) ?? 'redis://127.0.0.1:6379/15',
    quick,
    scale: [...scale].sort((a, b) => a - b),
    skip: list<Section>('--skip', args.options.get('--skip'), SECTIONS) ?? [],
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(args.options.has('--json') ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
  return 0;
}
