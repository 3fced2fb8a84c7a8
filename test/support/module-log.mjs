// Preload (node --import) that writes every module the process loads, one a line, to the file in
// ONCE_TEST_MODULE_LOG: ES modules through a loader hook, CommonJS requires through Module._load.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const file = process.env.ONCE_TEST_MODULE_LOG;
if (file) {
  register(new URL('./module-log-hooks.mjs', import.meta.url), { data: { file } });
  const load = Module._load;
  Module._load = function (request, ...rest) {
    appendFileSync(file, `require ${request}\n`);
    return load.call(this, request, ...rest);
  };
}
