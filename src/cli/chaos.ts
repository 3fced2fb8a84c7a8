// `once-checkout chaos`: many agent checkouts through injected faults, judged by the merchant's own records.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatFinding, formatSummary, isClean } from '../chaos/report.js';
import { CHAOS_PROTOCOLS, type ChaosProtocol } from '../chaos/protocols.js';
import { faultTotal, runChaos } from '../chaos/run.js';
import { ConfigError } from '../config/config-error.js';
import { parseStoreUrl } from '../config/store-url.js';
import { parseArgs } from './args.js';

export const CHAOS_HELP = `once-checkout chaos: prove zero duplicates under partitions, crashes and concurrency

Usage: once-checkout chaos [--tasks 1000] [--processes 1] [--store URL] [--seed N] [--concurrency 16]
                           [--fault-rate 0.15] [--max-order-amount N] [--protocol acp|ucp|ucp-mcp]
                           [--transport rest|mcp] [--order-events] [--json] [--bin PATH]

Runs N agent tasks (create → update → complete) through real MCP server processes on stdio, against the sandbox
merchant behind a fault proxy, spoken to over ACP (default), UCP's REST binding (--protocol ucp) or UCP's MCP
binding (--protocol ucp-mcp; UCP runs add the merchant's complete_in_progress and leave out ACP's 409 in
flight, which UCP reads as a key conflict). --transport mcp takes the protocol's MCP binding (acp-mcp: ACP's own
binding at /acp/mcp, where a cut body is a dropped stream, 409 in flight a -32000, and -32000 internal errors
join the faults): lost requests and responses, 5xx, 409 in flight, latency past the timeout,
cut bodies, network partitions, servers SIGKILLed mid-call and restarted, and (PostgreSQL) store outages.
Agents move on while calls are still in flight: 1 in 10 pays again with other payment data while its first
complete is held in the network, 1 in 10 sends update A (9 of each), then update B (1 of each) while A is held
until it pays, 1 in 10 sends an update (one more of each) held until it pays, and pays at once, still shown the
old cart (complete must refuse: checkout_changed, and the agent looks and pays again); on PostgreSQL 1 in 25 has the store cut right after the merchant answers its complete (1.5 s,
or 6 s for the first cut and 1 in 5 after it: past the settle's retries).
Then it reads the merchant's records and the ledger and judges each checkout: duplicates, lost successes
(including a charge whose agent was told it failed or that nothing was charged), wrong answers, charges of a
cart or total other than the agent was last shown, and with --max-order-amount (the servers' spend cap)
charges above it. Exit 1 on any of them, naming the task, its keys and its timeline. --store defaults to a
fresh SQLite file.
--order-events (ACP): the merchant also sends signed order events (each state sent twice at once, again
after success, or held back and sent after the next one, 1 in 5 each) to one more server in HTTP mode on the
same store, and after the storm 1 order in 3 ships and is delivered. Exit 1 also when an order is not on its
checkout's record, a state was applied twice, a head shows an older state than the merchant's, or a complete
of an ordered checkout is left without an outcome.`;

function positiveInt(name: string, value: string | true | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1) throw new ConfigError(name, `"${String(value)}" is not a positive whole number`, `Write ${name} 100`);
  return n;
}

export async function chaos(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    '--tasks': true, '--processes': true, '--seed': true, '--concurrency': true, '--fault-rate': true, '--json': false, '--bin': true, '--protocol': true, '--transport': true,
    '--order-events': false,
  });
  const transport = args.options.get('--transport') ?? 'rest';
  if (transport !== 'rest' && transport !== 'mcp') throw new ConfigError('--transport', `"${String(transport)}" is not rest or mcp`, 'Write --transport mcp (or rest, the default)');
  const named = (args.options.get('--protocol') ?? 'acp') as string;
  // --transport mcp picks the protocol's MCP binding: acp → acp-mcp, ucp → ucp-mcp.
  const protocol = (transport === 'mcp' && !named.endsWith('-mcp') ? `${named}-mcp` : named) as ChaosProtocol;
  if (!CHAOS_PROTOCOLS.includes(protocol)) throw new ConfigError('--protocol', `"${String(protocol)}" is not a protocol`, `Use one of ${CHAOS_PROTOCOLS.join(', ')}`);
  const store = args.env.ONCE_STORE === process.env.ONCE_STORE ? undefined : args.env.ONCE_STORE;
  if (store !== undefined) parseStoreUrl(store);
  const capText = args.env.ONCE_MAX_ORDER_AMOUNT === process.env.ONCE_MAX_ORDER_AMOUNT ? undefined : args.env.ONCE_MAX_ORDER_AMOUNT;
  const cap = capText === undefined ? undefined : positiveInt('--max-order-amount', capText, 0);
  const faultRate = Number(args.options.get('--fault-rate') ?? 0.15);
  if (!(faultRate >= 0 && faultRate <= 1)) throw new ConfigError('--fault-rate', 'must be between 0 and 1', 'Write --fault-rate 0.15');
  const json = args.options.has('--json');
  const tasks = positiveInt('--tasks', args.options.get('--tasks'), 1_000);
  const bin = (args.options.get('--bin') as string | undefined) ?? resolve(fileURLToPath(import.meta.url), '..', '..', 'index.js');
  let lastDraw = 0;
  const draw = (done: number, total: number, s: { faults: number; reinvocations: number }) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} tasks, ${s.faults} faults, ${s.reinvocations} re-invocations`;
    process.stderr.write(process.stderr.isTTY ? `\r${bar}` : `${bar}\n`);
  };
  const summary = await runChaos({
    tasks,
    processes: positiveInt('--processes', args.options.get('--processes'), 1),
    store,
    seed: positiveInt('--seed', args.options.get('--seed'), Math.floor(Math.random() * 1e9) + 1),
    concurrency: positiveInt('--concurrency', args.options.get('--concurrency'), 16),
    faultRate,
    bin,
    cap,
    protocol,
    orderEvents: args.options.has('--order-events'),
    onProgress(done, total, s) {
      const now = Date.now();
      if (now - lastDraw < 200 && done < total) return;
      lastDraw = now;
      draw(done, total, s);
    },
  });
  // The last progress line is the summary's own count (faults met while the storm passed are in it too).
  draw(summary.tasks, summary.tasks, { faults: faultTotal(summary.faults), reinvocations: summary.reinvocations });
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${formatSummary(summary)}\n`);
  const { verdict } = summary;
  // Up to 5 of each kind, so one kind's many findings do not hide another's.
  const findings = [
    verdict.duplicates,
    verdict.lostSuccesses,
    verdict.wrongAnswers,
    verdict.toldFailedButCharged,
    verdict.chargedNotShown,
    verdict.aboveCap,
  ].flatMap((kind) => kind.slice(0, 5));
  for (const finding of findings) process.stderr.write(`${formatFinding(finding)}\n`);
  for (const task of summary.stopped) process.stderr.write(`task ${task.taskId} ${task.status}: ${task.detail ?? ''}\n`);
  const events = summary.orderEvents;
  if (events) {
    for (const [what, list] of [['order never recorded', events.missing], ['head shows an older state', events.stale], ['state applied twice', events.appliedTwice], ['complete left open after its order', events.unsettled]] as const) {
      for (const item of list.slice(0, 5)) process.stderr.write(`order events: ${what}: ${item}\n`);
    }
  }
  return isClean(summary) ? 0 : 1;
}
