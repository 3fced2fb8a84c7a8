// Fault injection for the sandbox backend, from ONCE_SANDBOX_FAULTS, e.g.
// `lose_response:0.3,timeout:0.1,error_5xx:0.1,crash_after_commit@complete:1`. Deterministic with a seed.
// `complete_in_progress` is UCP's: a complete answers complete_in_progress and charges a few seconds later.

export const FAULT_NAMES = ['lose_response', 'timeout', 'error_5xx', 'crash_after_commit', 'complete_in_progress'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export const OPERATIONS = ['create', 'update', 'complete', 'cancel', 'get'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface FaultRule {
  fault: FaultName;
  /** Probability in [0, 1] that this fault fires on a call it applies to. */
  rate: number;
  /** Only this operation; absent means every mutating operation (create, update, complete, cancel). */
  operation?: Operation;
}

export interface FaultPlan {
  rules: FaultRule[];
}

export const NO_FAULTS: FaultPlan = { rules: [] };

export type Random = () => number;

const FIX = `set it like 'lose_response:0.3,timeout@complete:1' (faults: ${FAULT_NAMES.join(', ')}; operations: ${OPERATIONS.join(', ')}; rates 0..1)`;

function bad(what: string): Error {
  return new Error(`ONCE_SANDBOX_FAULTS: ${what}; ${FIX}`);
}

/** Parses the fault list; an unknown name, operation or rate stops start-up with the fix. */
export function parseFaults(text: string | undefined): FaultPlan {
  if (text === undefined || text.trim() === '') return NO_FAULTS;
  const rules = text.split(',').map((part): FaultRule => {
    const entry = part.trim();
    const match = /^([a-z_0-9]+)(?:@([a-z_]+))?:(.+)$/.exec(entry);
    if (!match) throw bad(`'${entry}' is not name[@operation]:rate`);
    const [, name, operation, rateText] = match;
    if (!(FAULT_NAMES as readonly string[]).includes(name)) throw bad(`unknown fault '${name}'`);
    if (operation !== undefined && !(OPERATIONS as readonly string[]).includes(operation)) {
      throw bad(`unknown operation '${operation}' in '${entry}'`);
    }
    const rate = Number(rateText.trim());
    if (rateText.trim() === '' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw bad(`rate '${rateText}' of '${name}' is not a number from 0 to 1`);
    }
    const rule: FaultRule = { fault: name as FaultName, rate };
    if (operation !== undefined) rule.operation = operation as Operation;
    return rule;
  });
  return { rules };
}

/** mulberry32: a tiny seeded PRNG, so a fault run can be replayed exactly. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function applies(rule: FaultRule, operation: Operation): boolean {
  return rule.operation === undefined ? operation !== 'get' : rule.operation === operation;
}

/** The fault for this call, if any: rules are tried in order, one draw each, the first that fires wins. */
export function pickFault(plan: FaultPlan, operation: Operation, random: Random): FaultName | undefined {
  for (const rule of plan.rules) {
    if (!applies(rule, operation)) continue;
    if (random() < rule.rate) return rule.fault;
  }
  return undefined;
}
