// A separate OS process running the built ledger, for cross-process tests.
// argv: storeUrl mode key [concurrency]
//   race: run `concurrency` identical calls at once; the call sleeps 50 ms; print {executions, outcomes}
//   hold: claim and never finish; print "holding" and wait to be killed
import { Ledger } from '../../dist/src/ledger/ledger.js';
import { parseStoreUrl } from '../../dist/src/config/store-url.js';
import { openStore } from '../../dist/src/store/open.js';

const [storeUrl, mode, key, concurrency = '25'] = process.argv.slice(2);
const store = await openStore(parseStoreUrl(storeUrl));
const ledger = new Ledger({ store, ttlMs: 3_600_000, waitMs: 30_000 });
let executions = 0;

const spec = (execute) => ({
  key,
  principal: 'local',
  operation: 'complete',
  backend: 'test',
  fingerprint: 'same-intent',
  summary: {},
  execute,
  reconcile: async () => ({ kind: 'resend' }),
});

if (mode === 'race') {
  // Start together: the parent releases every worker at the same instant.
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const results = await Promise.all(
    Array.from({ length: Number(concurrency) }, () =>
      ledger.run(
        spec(async (attempt) => {
          executions += 1;
          await new Promise((r) => setTimeout(r, 50));
          return { kind: 'succeeded', value: `order-from-${process.pid}-${attempt.outboundKey}` };
        }),
      ),
    ),
  );
  process.stdout.write(JSON.stringify({ executions, outcomes: results.map((r) => `${r.outcome}:${r.value}`) }) + '\n');
  await store.close();
} else if (mode === 'hold') {
  void ledger.run(
    spec(async () => {
      process.stdout.write('holding\n');
      return new Promise(() => {});
    }),
  );
  setInterval(() => {}, 1_000);
}
