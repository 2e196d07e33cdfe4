/**
 * Imports run one way (issue 14; README "Architecture"). From the bottom up:
 *   util, errors.ts  →  proc  →  kinds  →  jobs, pool, results  →  executor  →  input, queue, report  →  sched, gnu
 *   →  cli
 * A folder imports only folders below it (and itself); index.ts (the library) sits beside cli and is imported by
 * nothing. Type-only imports count: a type is a dependency too. `npm run check` runs this.
 */
const below = {
  util: [],
  proc: ['util'],
  kinds: ['util', 'proc'],
  jobs: ['util', 'kinds'],
  pool: ['util', 'proc', 'kinds'],
  results: ['util', 'kinds'],
  executor: ['util', 'proc', 'kinds', 'jobs', 'pool', 'results'],
  input: ['util', 'kinds', 'jobs'],
  queue: ['util', 'proc', 'kinds', 'jobs', 'pool', 'results', 'executor'],
  report: ['util', 'kinds', 'jobs', 'results', 'executor'],
  // The scheduler (dependencies, machine limits, -w auto, longest-first) and GNU parallel's habits (--pipe, --tag,
  // --results): run-level policies over a runner and a job source, below the CLI that wires them.
  sched: ['util', 'proc', 'kinds', 'jobs', 'pool', 'results', 'executor', 'input', 'report'],
  gnu: ['util', 'kinds', 'jobs', 'results', 'executor', 'input', 'report'],
  cli: [
    'util',
    'proc',
    'kinds',
    'jobs',
    'pool',
    'results',
    'executor',
    'input',
    'queue',
    'report',
    'sched',
    'gnu',
  ],
};

const folders = Object.keys(below);

export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle, between files or through folders: one of its arrows points the wrong way.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...folders.map((folder) => ({
      name: `${folder}-imports-only-below`,
      severity: 'error',
      comment: `src/${folder} may import only ${below[folder].length ? below[folder].join(', ') : 'itself'} (and errors.ts, node, packages).`,
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(?!(?:${[folder, ...below[folder]].join('|')})/|errors\\.ts$)` },
    })),
    {
      name: 'errors-imports-only-util',
      severity: 'error',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/(?!util/)' },
    },
    {
      name: 'nothing-imports-the-entry-points',
      severity: 'error',
      comment: 'index.ts is the library, cli/main.ts the program: the top, imported by nothing in src.',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'no-unknown-folder',
      severity: 'error',
      comment: 'A new folder under src/ gets its place in the layers above.',
      from: { path: `^src/(?!(?:${folders.join('|')})/|index\\.ts$|errors\\.ts$)` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
