#!/usr/bin/env node
// Layout rules CI enforces (issue 12): no import circles anywhere in the tree,
// nothing under src/ imports from workers/ or dev/, and (when dist/ exists)
// the build holds only the service: no simulator, sink or demo file.
// Imports are read as text: every relative `from '…'` / `import('…')`, .js → .ts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const ROOTS = ['src', 'workers', 'dev', 'bench', 'test'];
const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(normalize(path));
  }
  return out;
}

const files = ROOTS.flatMap((root) => walk(root));
const known = new Set(files);
const graph = new Map();
for (const file of files) {
  const edges = [];
  for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const target = normalize(join(dirname(file), match[1])).replace(/\.js$/, '.ts');
    if (known.has(target)) edges.push(target);
  }
  graph.set(file, edges);
}

const problems = [];
for (const [file, edges] of graph) {
  if (!file.startsWith('src/')) continue;
  for (const target of edges) {
    if (target.startsWith('workers/') || target.startsWith('dev/')) problems.push(`${file} imports ${target}: src/ must not depend on workers/ or dev/`);
  }
}

// Tarjan's strongly connected components: every component of more than one file is a circle.
let index = 0;
const stack = [];
const meta = new Map();
function strongConnect(v) {
  meta.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!meta.has(w)) {
      strongConnect(w);
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
    } else if (meta.get(w).onStack) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
  }
  if (meta.get(v).low === meta.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      meta.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) problems.push(`import circle: ${component.sort().join(' ↔ ')}`);
  }
}
for (const v of graph.keys()) if (!meta.has(v)) strongConnect(v);

if (existsSync('dist')) {
  for (const file of walk('dist').concat(walkJs('dist'))) {
    const rel = relative('dist', file);
    if (/^dev\/|simulator|sinks?\/|(^|\/)demo\.|local-redis/.test(rel)) problems.push(`dist/${rel}: dev tooling must not be built into dist/`);
  }
}
function walkJs(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walkJs(path, out);
    else if (name.endsWith('.js')) out.push(path);
  }
  return out;
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`layout: ${problem}`);
  process.exit(1);
}
console.log(`layout: ${files.length} files, no import circles, src/ independent of workers/ and dev/${existsSync('dist') ? ', dist/ holds only the service' : ''}`);
