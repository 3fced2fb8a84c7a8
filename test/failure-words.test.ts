// Issue 17: what the agent reads when a call fails lives in one module, keyed by code
// (src/checkout/failure.ts). Every code the engine and the server answer with has its words there, each
// sentence says what to do next, and no other module of the engine, the server or the tools words a failure.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckoutSession } from '../src/commerce/session.js';
import { describeFailure, failures, type Failure } from '../src/checkout/failure.js';
import { storeFault } from '../src/store/store-fault.js';

const ROOT = resolve(import.meta.dirname, '..');

/** The codes the engine (src/checkout) and the server (src/server) refuse with on their own. */
const OWN_CODES = [
  'checkout_not_found',
  'store_unavailable',
  'merchant_unavailable',
  'pending',
  'outcome_unknown',
  'checkout_changed',
  'checkout_total_invalid',
  'spend_cap_exceeded',
  'declined_by_user',
  'intent_conflict',
  'attempts_exhausted',
  'invalid_input',
  'rate_limited',
];

/** The codes a backend's mapping (or the engine's read-back) hands the engine, which describeFailure words. */
const PROVIDER_CODES = [
  'checkout_canceled',
  'checkout_already_canceled',
  'checkout_expired',
  'checkout_already_expired',
  'checkout_completed',
  'checkout_already_completed',
  'payment_declined',
  'checkout_not_found',
  'payer_action_required',
  'idempotency_conflict',
  'invalid_input',
  'merchant_invalid_answer',
];

const CHECKOUT = {
  id: 'cs_1',
  status: 'ready_for_payment',
  currency: 'usd',
  line_items: [{ id: 'li_1', item: { id: 'sku_mug', quantity: 2 }, quantity: 2 }],
  totals: [{ type: 'total', display_text: 'Total', amount: 2800 }],
} as unknown as CheckoutSession;

/** One call of every entry, in each of its situations. */
const SAMPLES: Record<keyof typeof failures, Failure[]> = {
  checkout_not_found: [failures.checkout_not_found('cs_1')],
  store_unavailable: [
    failures.store_unavailable('complete_checkout', storeFault('unreachable')),
    failures.store_unavailable('complete_checkout', storeFault('unreachable'), true),
    failures.store_unavailable('complete_checkout', storeFault('authentication')),
  ],
  merchant_unavailable: [
    failures.merchant_unavailable('timeout'),
    failures.merchant_unavailable('timeout', { earlierAttempt: false }),
    failures.merchant_unavailable('timeout', { earlierAttempt: true }),
  ],
  pending: [
    failures.pending('update_checkout', { kind: 'same_call' }),
    failures.pending('update_checkout', { kind: 'other_call', operation: 'complete' }),
    failures.pending('update_checkout', { kind: 'earlier_call', operation: 'cancel', detail: 'timeout' }),
  ],
  outcome_unknown: [
    failures.outcome_unknown('complete_checkout', { kind: 'unclear_answer', detail: 'timeout' }),
    failures.outcome_unknown('update_checkout', { kind: 'earlier_complete' }),
  ],
  checkout_changed: [failures.checkout_changed(CHECKOUT, false), failures.checkout_changed(CHECKOUT, true)],
  checkout_total_invalid: [failures.checkout_total_invalid(false), failures.checkout_total_invalid(true)],
  spend_cap_exceeded: [failures.spend_cap_exceeded(2800, 'usd', 1000, false), failures.spend_cap_exceeded(2800, 'usd', 1000, true)],
  declined_by_user: [failures.declined_by_user(), failures.declined_by_user(true)],
  intent_conflict: [failures.intent_conflict('task-1', 'cs_1'), failures.intent_conflict('task-1')],
  attempts_exhausted: [failures.attempts_exhausted(3)],
  invalid_input: [
    failures.invalid_input({ kind: 'card_number', at: 'payment_data.instrument.credential.token' }),
    failures.invalid_input({ kind: 'arguments', tool: 'create_checkout', problems: ['currency: must be a three-letter ISO 4217 code'], total: 1 }),
  ],
  rate_limited: [failures.rate_limited('create_checkout', 60, 2)],
};

/** Each sentence ends a sentence and gives the agent something to do (or not to do). */
const NEXT_STEP = /\b(call|tell|ask|stop|use|fix|show|pass|wait|send|do not)\b/i;

function sourcesUnder(dir: string): Array<[string, string]> {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [join(dir, f), readFileSync(join(ROOT, dir, f), 'utf8')]);
}

describe('issue 17: the words an agent reads when a call fails', () => {
  it('every code the engine and the server refuse with has its words in src/checkout/failure.ts', () => {
    expect(Object.keys(failures).sort()).toEqual([...OWN_CODES].sort());
  });

  it.each(Object.keys(SAMPLES))('%s: each situation answers its own code, in one sentence with the next step', (code) => {
    for (const failure of SAMPLES[code as keyof typeof failures]) {
      expect(failure.code).toBe(code);
      expect(failure.message).toMatch(/[.)]$/);
      expect(failure.message).not.toMatch(/undefined|\[object/);
      expect(failure.message).toMatch(NEXT_STEP);
    }
  });

  it.each(PROVIDER_CODES)('%s from a backend is told in our words, with advice, never as an unknown refusal', (code) => {
    // complete_checkout answers a completed checkout with its order (R5), so those codes never reach it as failures.
    const tools = code.endsWith('_completed') ? ['update_checkout', 'cancel_checkout'] : ['update_checkout', 'complete_checkout', 'cancel_checkout'];
    for (const tool of tools) {
      const told = describeFailure(code, 'The merchant says no.', tool);
      // One code per state for the agent, whichever backend said it.
      expect(told.code).toBe(code.replace('_already_', '_'));
      expect(told.message).not.toMatch(/^The merchant refused \(/);
      expect(told.message).toMatch(NEXT_STEP);
    }
  });

  it("a merchant's own code is merchant_error, its words quoted, with advice", () => {
    const told = describeFailure('merchant:out_of_stock', 'Gone.', 'complete_checkout');
    expect(told).toMatchObject({ code: 'merchant_error', merchant_code: 'out_of_stock' });
    expect(told.message).toMatch(NEXT_STEP);
  });

  it('no other module of the engine, the server or the tools words a failure of its own', () => {
    const files = [...sourcesUnder('src/checkout'), ...sourcesUnder('src/server'), ...sourcesUnder('tools')].filter(
      ([file]) => file !== join('src', 'checkout', 'failure.ts'),
    );
    for (const [file, text] of files) {
      expect(text, file).not.toMatch(/\bfailure\(\s*'/);
      expect(text, file).not.toMatch(/type: '(invalid_request|payment_error|merchant_error|service_unavailable)'/);
    }
  });
});
