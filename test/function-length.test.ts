// No function over 80 lines in src/ and tools/ (tests are free): a longer one is split into named steps. Each
// function-like node with a body (declarations, methods, accessors, constructors, arrows, function expressions)
// is counted from its first line to its closing brace, as the TypeScript compiler parses it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_LINES = 80;

function typescriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typescriptFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The function's own name, or the name of what it is assigned to (`const f = () => …`, `{ f: () => … }`). */
function nameOf(node: ts.SignatureDeclaration, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name) return node.name.getText(source);
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.initializer === node) {
    return parent.name.getText(source);
  }
  return '(anonymous)';
}

/** Every function over MAX_LINES in one file's text, as `file:line name (N lines)`. */
function longFunctions(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > MAX_LINES) found.push(`${relative(ROOT, file)}:${first + 1} ${nameOf(node, source)} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('function length', () => {
  it(`issue 17: no function over ${MAX_LINES} lines in src/ or tools/`, () => {
    const files = ['src', 'tools'].flatMap((dir) => typescriptFiles(join(ROOT, dir)));
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((file) => longFunctions(file))).toEqual([]);
  });

  it('the count is not blind: 81 lines is caught, 80 is not, by name wherever the function is', () => {
    const body = (lines: number) => Array.from({ length: lines - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = [
      `export function fits() {\n${body(80)}\n}`,
      `export function tooLong() {\n${body(81)}\n}`,
      `const arrow = () => {\n${body(81)}\n};`,
      `class Shop {\n  method() {\n${body(81)}\n  }\n}`,
    ].join('\n');
    expect(longFunctions(join(ROOT, 'src', 'example.ts'), text)).toEqual([
      'src/example.ts:81 tooLong (81 lines)',
      'src/example.ts:162 arrow (81 lines)',
      'src/example.ts:244 method (81 lines)',
    ]);
  });
});
