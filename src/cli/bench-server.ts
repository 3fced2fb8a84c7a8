// The server `once-checkout bench` spawns for its end-to-end row: `once-checkout serve` on stdio with the
// benchmark's no-op tool beside the product's five, so the product's own tool list never knows its benchmark.
import { benchNoopTool } from '../bench/noop-tool.js';
import { tools } from '../../tools/index.js';
import { serve } from './serve.js';

serve(process.argv.slice(2), [...tools, benchNoopTool]).catch((error: unknown) => {
  process.stderr.write(`once-checkout bench server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
