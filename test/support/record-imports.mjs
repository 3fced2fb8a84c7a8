// Preload (node --import) that writes every module URL the process resolves to the file named by
// RECORD_IMPORTS_TO, one a line: what a start-up actually loaded, seen from outside the code under test.
import { register } from 'node:module';

if (process.env.RECORD_IMPORTS_TO) {
  register('./record-imports-hooks.mjs', import.meta.url, { data: { file: process.env.RECORD_IMPORTS_TO } });
}
