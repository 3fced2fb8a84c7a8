// A setting given as `@/path/file` (ONCE_HTTP_TOKENS, ACP_WEBHOOK_SECRET): the file's lines, or one ConfigError
// naming the variable, the path and the fix. The content never appears in an error.
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

export function readSettingFile(variable: string, path: string, what: string, fix: string): string[] {
  try {
    return readFileSync(path, 'utf8').split(/\r?\n/);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(variable, `cannot read the ${what} ${path} (${code})`, fix);
  }
}
