import { readFileSync } from 'node:fs';

/** The package version, read from package.json beside dist/ (or beside src/ when run from source). */
export const VERSION: string = (() => {
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'once-checkout') return pkg.version;
    } catch {
      // try the next layout
    }
  }
  return '0.0.0';
})();
