/**
 * The layering check (.dependency-cruiser.mjs, run by `npm run lint`) on a
 * small tree made for it: each kind of violation is reported, and the
 * allowed shapes are not. The real tree is checked by the lint step itself.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation { rule: { name: string }; from: string; to: string; cycle?: Array<{ name: string }> }

async function check(files: Record<string, string>): Promise<Violation[]> {
  const dir = await mkdtemp(join(tmpdir(), 'mimamori-layers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await copyFile(join(root, '.dependency-cruiser.mjs'), join(dir, '.dependency-cruiser.mjs'));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [depcruise, '--config', '.dependency-cruiser.mjs', '--output-type', 'json', '.'], { cwd: dir, maxBuffer: 16 << 20 }, (err, stdout) => {
      // Exit code = number of violations; the JSON says which.
      if (err && !stdout) reject(err); else resolve(stdout);
    });
  });
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

const names = (vs: Violation[]) => vs.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();

t.test('allowed: front doors downward, core/ file by file, anything inside a folder, type-only circles, tests', async (t) => {
  const vs = await check({
    'core/clock.ts': 'export const now = () => 0;\n',
    'core/index.ts': "export * from './clock.js';\n",
    'edge/index.ts': "export { read } from './read.js';\n",
    'edge/read.ts': "import { now } from '../core/clock.js';\nexport const read = () => now();\n",
    'rules/index.ts': "import { read } from '../edge/index.js';\nimport { step } from './step.js';\nexport const run = () => step(read());\n",
    'rules/step.ts': "import type { State } from './state.js';\nexport const step = (n: number): State | number => n;\n",
    'rules/state.ts': "import type { step } from './step.js';\nexport interface State { s: typeof step }\n",
    'test/x.test.ts': "import { read } from '../edge/read.js';\nimport { run } from '../rules/index.js';\nexport const both = [read, run];\n",
  });
  t.same(names(vs), []);
});

t.test('reported: past a front door, upward or sideways, and a circle that holds at run time', async (t) => {
  const vs = await check({
    'core/clock.ts': "import { read } from '../edge/index.js';\nexport const now = () => read();\n",
    'edge/index.ts': "export { read } from './read.js';\n",
    'edge/read.ts': 'export const read = () => 1;\n',
    'broker/index.ts': "import { read } from '../edge/read.js';\nexport const b = () => read();\n",
    'rules/index.ts': "export { a } from './a.js';\n",
    'rules/a.ts': "import { b } from './b.js';\nexport const a = () => b();\n",
    'rules/b.ts': "import { a } from './a.js';\nexport const b = (): number => (a ? 1 : 0);\n",
    'dashboards/index.ts': "import { main } from '../cli/index.js';\nexport const d = main;\n",
    'cli/index.ts': 'export const main = () => 0;\n',
  });
  t.same(names(vs), [
    'front-door: broker/index.ts → edge/read.ts',
    'layer-core: core/clock.ts → edge/index.ts',
    'layer-dashboards: dashboards/index.ts → cli/index.ts',
    'layer-edge-broker: broker/index.ts → edge/read.ts',
    'no-circular: rules/a.ts → rules/b.ts',
  ]);
});
