/**
 * The layout's rules, checked on the sources: no import cycle in lib/; the quantization
 * algorithms import no runtime; no backend's name outside its own folder under lib/runtimes/.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

const libDir = path.resolve(__dirname, '..', '..', 'lib');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Relative imports of a file (static, type-only, dynamic and require), resolved to files of lib/. */
function importsOf(file: string, files: ReadonlySet<string>): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (!spec.startsWith('.')) continue;
    const base = path.resolve(path.dirname(file), spec.replace(/\.js$/, ''));
    const target = [`${base}.ts`, path.join(base, 'index.ts')].find((c) => files.has(c));
    if (target && target !== file) found.push(target);
  }
  return found;
}

/** Strongly connected components of two or more files (Tarjan). */
export function importCycles(dir: string): string[][] {
  const files = sources(dir);
  const set = new Set(files);
  const edges = new Map(files.map((f) => [f, importsOf(f, set)]));
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(path.relative(dir, w));
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return cycles;
}

test('no import cycle in lib/ (static, type-only and dynamic imports all count)', (t) => {
  t.deepEqual(importCycles(libDir), []);
});

test('the cycle check finds a cycle when there is one', (t) => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'int8-detect-cycle-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b';\nexport const a = b;\n");
  fs.writeFileSync(path.join(dir, 'b.ts'), "import type { A } from './c';\nexport const b = 1 as unknown as A;\n");
  fs.writeFileSync(path.join(dir, 'c.ts'), "export type A = number;\nexport const c = import('./a');\n");
  t.deepEqual(importCycles(dir), [['a.ts', 'b.ts', 'c.ts']]);
});

const runtimeFolders = fs.readdirSync(path.join(libDir, 'runtimes'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

test('the quantization algorithms import no runtime', (t) => {
  for (const file of sources(path.join(libDir, 'quantize'))) {
    const imports = importsOf(file, new Set(sources(libDir))).map((f) => path.relative(libDir, f));
    const runtimeImports = imports.filter((f) => runtimeFolders.some((r) => f.startsWith(`runtimes${path.sep}${r}${path.sep}`)) || f === path.join('runtimes', 'registry.ts'));
    t.deepEqual(runtimeImports, [], path.relative(libDir, file));
  }
});

test("a backend's name, as a string in code, appears only in its own folder", (t) => {
  t.true(runtimeFolders.length >= 3, runtimeFolders.join(', '));
  const names = new RegExp(`['"\`](${runtimeFolders.join('|')})['"\`]`);
  for (const file of sources(libDir)) {
    const relative = path.relative(libDir, file);
    const own = runtimeFolders.find((r) => relative.startsWith(`runtimes${path.sep}${r}${path.sep}`));
    const code = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line));
    for (const line of code) {
      const m = names.exec(line);
      if (m && m[1] !== own) t.fail(`${relative} names '${m[1]}': ${line.trim()}`);
    }
  }
  t.pass();
});
