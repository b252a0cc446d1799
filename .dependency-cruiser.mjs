// The layering check (issue 13), run by `npm run lint`. See docs/architecture.md.
//
// Folders and their layers, lowest first. A folder may import folders of a
// lower layer only (never one of its own layer or above), always through
// that folder's front door, index.ts. core/ is the shared kernel: every
// folder may import any core/ file, and core/ imports nothing of ours.
// Tests (test/), scripts/ and the browser code (dashboards/client/, its own
// build) are not checked.
const layers = [
  ['core'],
  // jobs/: the durable scheduler on core's JobStore, used by notifier/ and dashboards/.
  ['jobs'],
  ['edge', 'broker'],
  ['rules', 'notifier'],
  ['dashboards'],
  // history/ implements ports of notifier/ (the digest's day summary) and dashboards/ (activity);
  // cluster/ implements ports of core/, notifier/ (the message budget) and dashboards/ (the live feed) on Redis.
  ['flows', 'history', 'cluster'],
  ['backup'],
  ['hub'],
  ['cli'],
  ['bench'],
];

const folder = (names) => `^(${names.join('|')})/`;
const ours = folder(layers.flat());

/** For each layer, a rule: its folders import nothing of the same layer or above. */
const layerRules = layers.map((names, i) => ({
  name: `layer-${names.join('-')}`,
  comment: `${names.join(', ')} may import only lower layers (${layers.slice(0, i).flat().join(', ') || 'nothing of ours'})`,
  severity: 'error',
  from: { path: folder(names) },
  to: {
    path: folder(layers.slice(i).flat()),
    // Within one folder anything goes.
    pathNot: '^$1/',
  },
}));

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circles (outside tests) that hold at run time: a circle made only of `import type` is erased by the compiler and allowed.',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'front-door',
      comment: 'Another folder is imported only through its front door, index.ts (core/ is the shared kernel and exempt).',
      severity: 'error',
      from: { path: ours },
      to: {
        path: ours,
        pathNot: ['^$1/', '^core/', '^[a-z-]+/index\\.ts$'],
      },
    },
    ...layerRules,
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test|scripts|data|coverage|dashboards/client|\\.cache)/|^cli/bin\\.js$|\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
