// A separate process for the crash row: claims one run, prints "holding" once the backend call has
// started, and never finishes; the benchmark SIGKILLs it there.
// argv: storeUrl payloadJson
import { parseStoreUrl } from '../config/store-url.js';
import { openStore } from '../store/open.js';
import { OurRunner, type Payload } from './ours.js';

const [storeUrl, payloadJson] = process.argv.slice(2);
const store = await openStore(parseStoreUrl(storeUrl));
const runner = new OurRunner(store);
void runner.run(JSON.parse(payloadJson) as Payload, async () => {
  process.stdout.write('holding\n');
  await new Promise(() => {});
});
setInterval(() => {}, 1_000);
