// Environment → SandboxConfig: the faults to inject and the draws that fire them, or one line naming the
// variable and the fix.
import { mulberry32, parseFaults, type FaultPlan, type Random } from './faults.js';

export interface SandboxConfig {
  faults: FaultPlan;
  rng: Random;
}

/** ONCE_SANDBOX_FAULTS and ONCE_SANDBOX_SEED (optional integer; without it, Math.random). */
export function readSandboxConfig(env: Readonly<Record<string, string | undefined>>): SandboxConfig {
  const faults = parseFaults(env.ONCE_SANDBOX_FAULTS);
  const seedText = env.ONCE_SANDBOX_SEED;
  if (seedText === undefined || seedText.trim() === '') return { faults, rng: Math.random };
  const seed = Number(seedText);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`ONCE_SANDBOX_SEED: '${seedText}' is not an integer; set it like ONCE_SANDBOX_SEED=42 or unset it`);
  }
  return { faults, rng: mulberry32(seed) };
}
