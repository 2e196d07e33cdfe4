/**
 * Bundles the CLI's start path (issue 15 item 4, BENCHMARKS.md B6): Node's ES module loader resolves, reads and
 * links each file on its own (~70 files for one shell job: poolrun's, commander's, chalk's), and that, more than
 * running them, is what poolrun's start-up costs beyond Node's own. Two bundles, in dist/bundle/:
 *
 *   cli.js          bin/poolrun.js's entry (cli/start.ts): a small chunk that starts the first worker
 *                   (pool/prestart.ts), then one chunk with everything cli/main.ts imports statically, commander
 *                   and chalk included, and a job file's reader;
 *   worker-main.cjs the worker's entry (threads and processes of a CLI run): pool/worker-main.ts and the halves
 *                   of the kinds a worker loads before it says it is ready (run, call), in one chunk.
 *
 * What a run loads only when asked for (reporters, the queue, copy, download, --shuf, ...) stays in chunks of its
 * own, loaded on first use as before. The library (dist/index.js) is not bundled. A bundle chunk lives in
 * dist/bundle/, one folder below dist/ like every compiled file, so the paths built from `import.meta.url`
 * (the worker entry, the addon, package.json) name the same files.
 *
 * The bundler is rolldown (from node_modules). Where it cannot be loaded, this prints one line and removes
 * dist/bundle/: bin/poolrun.js then runs dist/cli/start.js, the same program from its files.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'bundle');

/** Worker halves of the kinds marked `preload` (kinds/<kind>/index.ts): loaded before a worker is ready. */
const PRELOADED = ['kinds/run/run.js', 'kinds/call/call.js'];
/** Packages imported statically on the start path: bundled with it. */
const BUNDLED_PACKAGES = ['commander', 'chalk'];

/**
 * The compiled files a file imports statically, transitively (tsc's output: `import … from './x.js'`,
 * `export … from`, `import './x.js'`; type-only imports are gone). Bare specifiers are packages.
 */
function closure(...files) {
  const seen = new Set();
  const stack = files.map((f) => join(dist, f));
  while (stack.length) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec));
    }
  }
  return seen;
}

function inPackage(id) {
  return BUNDLED_PACKAGES.some((p) => id.includes(`/node_modules/${p}/`));
}

async function bundle(rolldown, name, entry, groups, format = 'esm') {
  const build = await rolldown({
    input: { [name]: join(dist, entry) },
    platform: 'node',
    // Node's own modules; the queue's packages are optional (queue/connect.ts loads them when asked).
    external: [/^node:/, 'bullmq', 'ioredis', '@humanwhocodes/momoa'],
    logLevel: 'silent',
  });
  await build.write({
    dir: `${out}.tmp`,
    format,
    entryFileNames: format === 'cjs' ? '[name].cjs' : '[name].js',
    chunkFileNames: `${name}-[name]-[hash].${format === 'cjs' ? 'cjs' : 'js'}`,
    codeSplitting: { groups },
  });
  await build.close();
}

/** Whether an ESTree node holds an `import()` anywhere below it. */
function hasImportExpression(node) {
  if (!node || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some(hasImportExpression);
  if (node.type === 'ImportExpression') return true;
  for (const key of Object.keys(node)) if (key !== 'parent' && hasImportExpression(node[key])) return true;
  return false;
}

/**
 * The CLI's chunks V8's code cache may serve (bin/poolrun.js, scripts/build-code-cache.mjs): code compiled from
 * a cache there has no loader for `import()`, so a chunk with one is left out. Written to cacheable.json.
 */
async function listCacheable(dir) {
  const { parseAst } = await import('rolldown/parseAst');
  const names = readdirSync(dir).filter(
    (f) => f.endsWith('.cjs') && !hasImportExpression(parseAst(readFileSync(join(dir, f), 'utf8'))),
  );
  writeFileSync(join(dir, 'cacheable.json'), `${JSON.stringify(names.sort())}\n`);
}

try {
  const { rolldown } = await import('rolldown');
  rmSync(`${out}.tmp`, { recursive: true, force: true });
  const start = closure('cli/start.js');
  // A job file's reader is imported when the run has one (cli/source.ts), the common case: it goes with main.
  const main = closure('cli/main.js', 'input/job-input.js');
  await bundle(
    rolldown,
    'cli',
    'cli/start.js',
    [
      { name: 'start', priority: 2, test: (id) => start.has(id) },
      { name: 'main', priority: 1, test: (id) => (main.has(id) && !start.has(id)) || inPackage(id) },
    ],
    'cjs',
  );
  // Not worker-main.js itself: its top-level await (the preloads) must not hold up the chunks it imports,
  // which the preloaded halves import too.
  const entry = join(dist, 'pool/worker-main.js');
  const worker = closure('pool/worker-main.js', ...PRELOADED);
  // CommonJS, as the CLI's: a worker thread or process whose entry is an ES module starts Node's ES module loader
  // first, ~6 ms of every worker's start (BENCHMARKS.md, "B6: the entries as CommonJS"). pool/handle.ts names
  // worker-main.cjs when it runs from this folder.
  await bundle(
    rolldown,
    'worker-main',
    'pool/worker-main.js',
    [{ name: 'ready', test: (id) => id !== entry && worker.has(id) }],
    'cjs',
  );
  await listCacheable(`${out}.tmp`);
  if (!existsSync(join(`${out}.tmp`, 'cli.cjs')) || !existsSync(join(`${out}.tmp`, 'worker-main.cjs')))
    throw new Error('the bundler wrote no entry');
  rmSync(out, { recursive: true, force: true });
  renameSync(`${out}.tmp`, out);
} catch (e) {
  rmSync(`${out}.tmp`, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  process.stderr.write(
    `poolrun build: no start-up bundle (${e?.message ?? e}); bin/poolrun.js runs dist/ files\n`,
  );
}
