// Module hooks for child processes that tests start from TypeScript sources
// (a whole hub to kill -9, an escalation child, a bridge): `.js` imports
// between project files resolve to their `.ts` source, and each `.ts` file is
// transpiled once (TypeScript's transpileModule, no type check — the type
// check is its own CI step) into a cache keyed by path, source and compiler.
// A restarted child, and every later child of the run, then loads the cached
// JavaScript instead of starting TypeScript again: the kill -9 tests restart
// processes on purpose, and paid a full compile of the hub for each start.
// The module keeps its .ts URL and an inline source map, so stack traces and
// coverage still point at the TypeScript lines. Plain Node, no dependencies
// beyond the project's `typescript`, loaded only when the cache misses.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bump when the transpile options below change, so old cache entries are not used. */
const format = 'ts-child-1';

let cacheDir = '';
let compilerKey = '';
let typescript;

/** @param {{ cacheDir: string }} data */
export function initialize(data) {
  cacheDir = data.cacheDir;
  const tsVersion = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('typescript/package.json'), 'utf8')).version;
  compilerKey = `${format}\0${tsVersion}\0`;
}

const relative = (s) => s.startsWith('./') || s.startsWith('../');

export async function resolve(specifier, context, nextResolve) {
  // The project writes ESM imports with .js (NodeNext); the file on disk is the .ts next to it.
  if (relative(specifier) && specifier.endsWith('.js') && context.parentURL?.startsWith('file:') && !context.parentURL.includes('/node_modules/')) {
    const ts = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
    if (existsSync(ts)) return { url: ts.href, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

function transpile(source, file) {
  typescript ??= createRequire(import.meta.url)('typescript');
  const ts = typescript;
  return ts.transpileModule(source, {
    fileName: file,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, esModuleInterop: true, isolatedModules: true,
      sourceMap: false, inlineSourceMap: true, inlineSources: true,
    },
  }).outputText;
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  const cached = join(cacheDir, `${createHash('sha256').update(compilerKey).update(file).update('\0').update(source).digest('hex')}.js`);
  let js;
  try {
    js = readFileSync(cached, 'utf8');
  } catch {
    js = transpile(source, file);
    // Written whole under a temporary name, then renamed: a child reading at the same moment sees all or nothing.
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${cached}.${process.pid}.tmp`;
    writeFileSync(partial, js);
    renameSync(partial, cached);
  }
  return { format: 'module', source: js, shortCircuit: true };
}
