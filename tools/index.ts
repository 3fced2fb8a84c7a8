// The registry: every tool the server offers, in the order clients list them.
import { cancelCheckout } from './cancel_checkout.js';
import { completeCheckout } from './complete_checkout.js';
import { createCheckout } from './create_checkout.js';
import { getCheckout } from './get_checkout.js';
import { updateCheckout } from './update_checkout.js';
import { benchNoopTool } from '../src/bench/noop-tool.js';

export const tools = [
  createCheckout,
  updateCheckout,
  completeCheckout,
  getCheckout,
  cancelCheckout,
  // Benchmark only (set by `once-checkout bench`): a tool that does nothing, the floor of the end-to-end row.
  ...(process.env.ONCE_BENCH_NOOP_TOOL === '1' ? [benchNoopTool] : []),
];
