#!/usr/bin/env node
// The bin. Logs and errors go to stderr; on stdio, stdout belongs to MCP.
// The rules R1–R15 that comments, help texts and tests cite are in docs/guarantees.md; the layout in
// docs/architecture.md.
import { main } from './cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`once-checkout: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
