// Vitest global setup: every temporary folder a test run makes (once-e2e-*, once-doctor-*, …) goes under one
// per-run folder, removed when the run ends, so test runs leave no once-* folders behind (issue 16).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'once-test-run-'));
  // Test workers start after this and inherit it; os.tmpdir() reads TMPDIR on every call.
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
