// How both sandbox merchants (ACP and UCP) write a decision about one stored session: compare-and-swap the
// session, then the records the decision adds, so concurrent writers never both win.
import type { Store, Stored } from '../../store/store.js';

export interface Decided<State, Answer> {
  answer: Answer;
  next?: State;
  records?: Array<[string, unknown]>;
}

/** The decision's answer once written; undefined when another writer changed the session first (read again). */
export async function writeDecision<State, Answer>(store: Store, key: string, stored: Stored<State>, decision: Decided<State, Answer>): Promise<Answer | undefined> {
  if (decision.next !== undefined && !(await store.replace(key, stored, decision.next))) return undefined;
  for (const [recordKey, value] of decision.records ?? []) await store.put(recordKey, value);
  return decision.answer;
}
