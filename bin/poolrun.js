#!/usr/bin/env node
// The CLI: dist/bundle/cli.cjs, its start path in a few CommonJS chunks (scripts/build-bundle.mjs), or
// dist/cli/start.js, the same program from its ~70 files where the build made no bundle, or made it before the
// files (a bare `tsc` after `npm run build`; a copy of the package may reorder the times by a little).
//
// CommonJS (bin/package.json), not an ES module: Node's ES module loader costs ~4 ms to start and its static
// imports ~3 ms more, before the first line runs (BENCHMARKS.md, "B6: the entry as CommonJS").
'use strict';
const { createHash } = require('node:crypto');
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { createRequire } = Module;
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const mtime = (path) => statSync(join(__dirname, path), { throwIfNoEntry: false })?.mtimeMs;
const bundle = mtime('../dist/bundle/cli.cjs');
const fresh = bundle !== undefined && bundle >= (mtime('../dist/cli/start.js') ?? 0) - 2000;

/**
 * V8's code cache for the bundle's large chunks (BENCHMARKS.md B6): Node 20 has no compile cache, and compiling
 * the main chunk was a third of a one-job run's CPU beyond Node's own start. `npm run build` and `npm install`
 * write `<chunk>.cache` beside each chunk a one-job run compiles (scripts/build-code-cache.mjs, which sets
 * POOLRUN_CODE_CACHE_WRITE); a chunk with one is compiled here from it. V8 checks a cache against its version,
 * its flags and the source, and compiles the source as usual when it does not match: the same program, slower.
 * Code compiled here cannot run `import()` (Node 20 gives it no loader without a flag): only chunks without one
 * are given a cache (dist/bundle/cacheable.json, written by the build).
 */
const compiled = [];
/** What --verbose says of it (cli/main.ts): chunks compiled from their cache, rejected, or without one. */
const stats = { used: 0, rejected: 0, none: 0 };
const writeCache = process.env.POOLRUN_CODE_CACHE_WRITE === '1';
delete process.env.POOLRUN_CODE_CACHE_WRITE; // not passed on to jobs and workers
/**
 * A cache file is the SHA-256 of V8's data, then the data: V8 checks a cache's version, flags and source, but a
 * release build does not check its bytes (a damaged one aborted Node here), so they are checked first.
 */
const digest = (data) => createHash('sha256').update(data).digest();
function intact(file) {
  const data = file.subarray(32);
  if (file.length <= 32 || !digest(data).equals(file.subarray(0, 32))) {
    stats.rejected++;
    return undefined;
  }
  return data;
}

/** The chunks without `import()` (none can run from code compiled here): dist/bundle/cacheable.json. */
let listed;
const cacheable = () =>
  (listed ??= JSON.parse(readFileSync(join(__dirname, '../dist/bundle/cacheable.json'), 'utf8')));
if (fresh) {
  const folder = join(__dirname, '../dist/bundle/');
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    if (!filename.startsWith(folder) || !filename.endsWith('.cjs'))
      return compile.call(this, content, filename);
    let cachedData;
    try {
      cachedData = intact(readFileSync(`${filename}.cache`));
    } catch {
      if (!writeCache || !cacheable().includes(filename.slice(folder.length))) {
        stats.none++;
        return compile.call(this, content, filename);
      }
    }
    const script = new vm.Script(Module.wrap(content), {
      filename,
      cachedData,
    });
    compiled.push({ filename, script });
    if (cachedData) stats[script.cachedDataRejected ? 'rejected' : 'used']++;
    const fn = script.runInThisContext({ displayErrors: true });
    return fn.call(this.exports, this.exports, createRequire(filename), this, filename, dirname(filename));
  };
}

if (fresh) globalThis[Symbol.for('poolrun.codeCache')] = stats;

async function run() {
  const { start } = fresh
    ? require('../dist/bundle/cli.cjs')
    : await import(pathToFileURL(join(__dirname, '../dist/cli/start.js')).href);
  return start(process.argv.slice(2));
}

/**
 * The event loop ran dry before the run said how it ended: nothing was left to wake it (a bug: a worker not held
 * open while work waited for it). Exit 70 (EX_SOFTWARE) and say so, never a silent 0.
 */
let ended = false;
process.on('beforeExit', () => {
  if (ended) return;
  process.stderr.write(
    'poolrun: internal error: the run stopped before its jobs were done (please report it)\n',
  );
  process.exit(70);
});

void run().then((code) => {
  ended = true;
  if (writeCache)
    for (const { filename, script } of compiled) {
      // After the run: the cache then holds the functions the run compiled, not only the chunk's top level.
      const data = script.createCachedData();
      writeFileSync(`${filename}.cache.tmp`, Buffer.concat([digest(data), data]));
      renameSync(`${filename}.cache.tmp`, `${filename}.cache`);
    }
  // Exit now: main() returns once stdout and stderr have taken everything written, and no idle handle may keep a
  // finished run alive.
  process.exit(code);
});
