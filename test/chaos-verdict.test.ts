// The chaos verdict judges each checkout by what its agent lived (R13, R14), on synthetic merchant records and
// agent logs, so the checker is known to see a loss or a wrong charge before it is trusted to report none.
import { describe, expect, it } from 'vitest';
import type { Invocation, TaskOutcome } from '../src/chaos/agent.js';
import { judge, shownBefore, toldFailure } from '../src/chaos/verdict.js';
import { openMemoryStore } from '../src/store/memory.js';
import { at, call, merchantWith, MUG, T0 } from './support/chaos-records.js';

const NINE_MUGS = [{ id: 'sku_mug', quantity: 9 }];



const shownMug = (t: number) => call('update_checkout', t, t + 10, { cart: { items: MUG, total: 3023 }, status: 'ready_for_payment' });
const paidOk = (t: number, task: string) => call('complete_checkout', t, t + 10, { status: 'completed', orderId: `ord_${task}`, cart: { items: MUG, total: 3023 } });

function outcome(task: string, status: TaskOutcome['status'], log: Invocation[]): TaskOutcome {
  const completed = status === 'completed';
  return { taskId: task, status, checkoutId: `cs_${task}`, ...(completed ? { orderId: `ord_${task}` } : {}), reinvocations: 0, parallelDuplicates: 0, log };
}

async function verdictOf(charges: Parameters<typeof merchantWith>[0], outcomes: TaskOutcome[], cap?: number) {
  return judge(await merchantWith(charges), openMemoryStore(), outcomes, 'p', { cap });
}

describe('chaos verdict, per checkout', () => {
  it('R13: a merchant charge while the agent was last told the payment failed is counted lost, and named', async () => {
    const told = outcome('t1', 'refused', [
      shownMug(0),
      call('complete_checkout', 100, 1_100, { ok: false, code: 'outcome_unknown', message: 'may or may not have acted', retryable: true }),
      call('complete_checkout', 1_200, 1_300, { ok: false, code: 'merchant_error', message: 'checkout_already_completed', retryable: false }),
    ]);
    const verdict = await verdictOf([{ task: 't1', items: MUG, amount: 3023, chargedAt: 1_250 }], [told]);
    expect(verdict.toldFailedButCharged).toHaveLength(1);
    expect(verdict.toldFailedButCharged[0].taskId).toBe('t1');
    expect(verdict.toldFailedButCharged[0].what).toMatch(/charge ch_t1 .* but the agent's last word on paying was merchant_error/);
    expect(verdict.chargedNotShown).toHaveLength(0);
  });

  it('R13: told "nothing was sent" by the call during which the merchant charged is lost, even if a retry later succeeds', async () => {
    const log = [
      shownMug(0),
      call('complete_checkout', 100, 6_000, { ok: false, code: 'store_unavailable', message: 'The ledger store cannot be reached, so nothing was sent to the merchant', retryable: true }),
      paidOk(7_000, 't2'),
    ];
    const verdict = await verdictOf([{ task: 't2', items: MUG, amount: 3023, chargedAt: 200 }], [outcome('t2', 'completed', log)]);
    expect(verdict.toldFailedButCharged.map((f) => f.what)).toEqual([expect.stringMatching(/the call in flight when the merchant charged answered store_unavailable/)]);
  });

  it('R13: a terminal failure after the charge is lost; an honest "unknown" then success, or a decline before it, is not', async () => {
    const lied = outcome('t3', 'completed', [
      shownMug(0),
      call('complete_checkout', 100, 300, { ok: false, code: 'attempts_exhausted', message: 'already failed 3 times', retryable: false }),
      paidOk(400, 't3'),
    ]);
    const honest = outcome('t4', 'completed', [
      shownMug(0),
      call('complete_checkout', 100, 150, { ok: false, code: 'payment_declined', message: 'The payment was declined', retryable: false }),
      call('complete_checkout', 200, 1_200, { ok: false, code: 'outcome_unknown', message: 'may or may not have acted', retryable: true }),
      call('complete_checkout', 1_300, 1_400, { ok: false, code: 'no_answer', message: 'timed out', retryable: true }),
      paidOk(1_500, 't4'),
    ]);
    const verdict = await verdictOf(
      [
        { task: 't3', items: MUG, amount: 3023, chargedAt: 200 },
        { task: 't4', items: MUG, amount: 3023, chargedAt: 250 },
      ],
      [lied, honest],
    );
    expect(verdict.toldFailedButCharged.map((f) => f.taskId)).toEqual(['t3']);
    expect(toldFailure(honest, T0 + 250)).toBeUndefined();
    // A final "success" whose words say nothing was charged is a failure told; "nothing was done twice" is not.
    const replay = paidOk(1_500, 't4');
    expect(toldFailure({ ...honest, log: [...honest.log.slice(0, -1), { ...replay, message: 'Order ord_t4 placed. This is the recorded result of an earlier identical call; nothing was done twice.' }] }, T0 + 250)).toBeUndefined();
    expect(toldFailure({ ...honest, log: [...honest.log.slice(0, -1), { ...replay, message: 'The payment failed; nothing was charged.' }] }, T0 + 250)).toMatch(/a success, reads/);
  });

  it('R14: a charged cart other than the last one shown before paying is counted wrong, and named', async () => {
    // Update A (9 mugs) timed out; update B showed 1 mug; the merchant charged 9 mugs.
    const raced = outcome('t5', 'completed', [
      call('update_checkout', 0, 1_000, { ok: false, code: 'outcome_unknown', message: 'may or may not have acted', retryable: true }),
      shownMug(1_100),
      paidOk(1_200, 't5'),
    ]);
    const verdict = await verdictOf([{ task: 't5', items: NINE_MUGS, amount: 15203, chargedAt: 1_205 }], [raced]);
    expect(verdict.chargedNotShown).toHaveLength(1);
    expect(verdict.chargedNotShown[0].what).toMatch(/charge ch_t5 of 9×sku_mug = 15203 .* last shown 1×sku_mug = 3023 before paying/);
    expect(verdict.toldFailedButCharged).toHaveLength(0);
    expect(verdict.duplicates).toHaveLength(0);
  });

  it('R14: the same cart at another total is wrong too; the cart shown by checkout_changed or get_checkout counts as shown', async () => {
    const otherTotal = outcome('t6', 'completed', [shownMug(0), paidOk(100, 't6')]);
    const reshown = outcome('t7', 'completed', [
      shownMug(0),
      call('complete_checkout', 100, 200, { ok: false, code: 'checkout_changed', message: 'the live cart differs; nothing was charged', retryable: false, cart: { items: NINE_MUGS, total: 15203 } }),
      call('get_checkout', 300, 400, { cart: { items: NINE_MUGS, total: 15203 }, status: 'ready_for_payment' }),
      paidOk(500, 't7'),
    ]);
    const verdict = await verdictOf(
      [
        { task: 't6', items: MUG, amount: 9999, chargedAt: 105 },
        { task: 't7', items: NINE_MUGS, amount: 15203, chargedAt: 505 },
      ],
      [otherTotal, reshown],
    );
    expect(verdict.chargedNotShown.map((f) => f.taskId)).toEqual(['t6']);
    expect(verdict.toldFailedButCharged).toHaveLength(0);
    // Had the merchant charged during the first complete, what was shown then (1 mug) is what counts.
    expect(shownBefore(reshown, T0 + 150)).toEqual({ shown: { items: MUG, total: 3023 } });
  });

  it('a charge with no complete asked for is wrong, and one above the cap is counted only when the run has a cap', async () => {
    const never = outcome('t8', 'refused', [shownMug(0)]);
    const charges = [{ task: 't8', items: MUG, amount: 3023, chargedAt: 50 }];
    const verdict = await verdictOf(charges, [never], 3_000);
    expect(verdict.chargedNotShown[0].what).toMatch(/charged before the agent asked to pay/);
    expect(verdict.toldFailedButCharged[0].what).toMatch(/never asked to pay/);
    expect(verdict.aboveCap.map((f) => f.what)).toEqual([expect.stringMatching(/above the cap of 3000/)]);
    expect(verdict.cap).toBe(3_000);
    expect((await verdictOf(charges, [never])).aboveCap).toHaveLength(0);
  });

  it('an order the merchant holds without a charge beside it is judged the same way', async () => {
    const told = outcome('t10', 'refused', [shownMug(0), call('complete_checkout', 100, 300, { ok: false, code: 'payment_declined', message: 'The payment was declined', retryable: false })]);
    const verdict = await verdictOf([{ task: 't10', items: NINE_MUGS, amount: 15203, chargedAt: 200, orderOnly: true }], [told]);
    expect(verdict.toldFailedButCharged.map((f) => f.what)).toEqual([expect.stringMatching(/^order ord_t10 of 9×sku_mug = 15203 .* last word on paying was payment_declined/)]);
    expect(verdict.chargedNotShown.map((f) => f.what)).toEqual([expect.stringMatching(/^order ord_t10 .* last shown 1×sku_mug = 3023/)]);
  });

  it('a clean checkout (shown, paid, told) yields no finding', async () => {
    const verdict = await verdictOf([{ task: 't9', items: MUG, amount: 3023, chargedAt: 105 }], [outcome('t9', 'completed', [shownMug(0), paidOk(100, 't9')])]);
    expect(verdict).toMatchObject({ duplicates: [], wrongAnswers: [], toldFailedButCharged: [], chargedNotShown: [], aboveCap: [], charges: 1, orders: 1 });
  });
});
