#!/usr/bin/env node
// B5: poolrun's native copy and download jobs against the shell tools a user would reach for.
//   copy:     2000 files of 4 KiB   poolrun -w 2 jobs.json   vs  xargs -P2 -n2 cp      (one cp per file)
//   download: 500 files of 64 KiB   poolrun -w 2 jobs.json   vs  xargs -P2 -n2 curl -so (one curl per file)
// from a local HTTP server (its own process, keep-alive). Runs alternate A B A B ... (B5_ROUNDS, default 5),
// each into a fresh empty folder; medians and ratios (poolrun / peer: below 1 means poolrun is faster) are
// printed and written to bench/b5-results.json. Like cp and curl, poolrun does not fsync by default (its copies
// are atomic: temp file, rename); the `poolrun --fsync` side shows what syncing every file and folder costs.
// Needs only a built poolrun (dist/), `cp`, `curl` and `xargs`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, median } from './lib.mjs';

const ROUNDS = Number(process.env.B5_ROUNDS ?? 5);
const COPIES = Number(process.env.B5_COPIES ?? 2000);
const DOWNLOADS = Number(process.env.B5_DOWNLOADS ?? 500);
const COPY_SIZE = 4 * 1024;
const DOWNLOAD_SIZE = 64 * 1024;
const WORKERS = 2;

for (const tool of ['cp', 'curl', 'xargs']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`b5: needs ${tool} on PATH`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'poolrun-b5-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      else resolve(ms);
    });
  });
}

function fresh(name) {
  const d = join(work, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  return d;
}

function expectCount(d, n, what) {
  const got = readdirSync(d).length;
  if (got !== n) throw new Error(`${what}: ${got} files in ${d}, expected ${n}`);
}

/** Alternates the variants round by round, so drift in machine load hits all of them alike. */
async function compare(label, variants, count) {
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, fn] of Object.entries(variants)) {
      const out = fresh(`${label}-out`);
      const ms = await fn(out);
      expectCount(out, count, `${label} ${name}`);
      times[name].push(ms);
      process.stderr.write(`b5 ${label} round ${round} ${name}: ${ms.toFixed(0)} ms\n`);
    }
  }
  return times;
}

// --- copy ------------------------------------------------------------------------------------------------
const src = join(work, 'src');
mkdirSync(src);
const block = Buffer.alloc(COPY_SIZE, 'x');
for (let i = 0; i < COPIES; i++) writeFileSync(join(src, `f${i}.dat`), block);
const copyPairs = join(work, 'copy-pairs.txt');
const copyJobs = join(work, 'copy-jobs.json');
const copyTimes = await compare(
  'copy',
  {
    poolrun: (out) => {
      writeFileSync(
        copyJobs,
        JSON.stringify(
          Array.from({ length: COPIES }, (_, i) => ({
            copy: { from: join(src, `f${i}.dat`), to: join(out, `f${i}.dat`) },
          })),
        ),
      );
      return run(process.execPath, [BIN, '-w', String(WORKERS), '-q', '--output', 'none', copyJobs]);
    },
    'poolrun --fsync': (out) => {
      writeFileSync(
        copyJobs,
        JSON.stringify(
          Array.from({ length: COPIES }, (_, i) => ({
            copy: { from: join(src, `f${i}.dat`), to: join(out, `f${i}.dat`) },
          })),
        ),
      );
      return run(process.execPath, [
        BIN,
        '-w',
        String(WORKERS),
        '-q',
        '--output',
        'none',
        '--fsync',
        copyJobs,
      ]);
    },
    'xargs -P2 cp': (out) => {
      writeFileSync(
        copyPairs,
        Array.from(
          { length: COPIES },
          (_, i) => `${join(src, `f${i}.dat`)} ${join(out, `f${i}.dat`)}\n`,
        ).join(''),
      );
      return run('sh', ['-c', `xargs -P${WORKERS} -n2 cp < '${copyPairs}'`]);
    },
  },
  COPIES,
);

// --- download --------------------------------------------------------------------------------------------
const serverCode = `
  const http = require('node:http');
  const body = Buffer.alloc(${DOWNLOAD_SIZE}, 'm');
  const s = http.createServer((req, res) => {
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'audio/mpeg', etag: '"b5"' });
    res.end(body);
  });
  s.keepAliveTimeout = 30000;
  s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;
const server = spawn(process.execPath, ['-e', serverCode], { stdio: ['ignore', 'pipe', 'inherit'] });
process.on('exit', () => server.kill('SIGKILL'));
const port = await new Promise((resolve, reject) => {
  server.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  server.once('exit', (c) => reject(new Error(`b5: the test server exited ${c}`)));
});
const base = `http://127.0.0.1:${port}`;
const dlPairs = join(work, 'download-pairs.txt');
const dlJobs = join(work, 'download-jobs.json');
const downloadTimes = await compare(
  'download',
  {
    poolrun: (out) => {
      writeFileSync(
        dlJobs,
        JSON.stringify(
          Array.from({ length: DOWNLOADS }, (_, i) => ({
            download: { url: `${base}/song-${i}.mp3`, to: join(out, `song-${i}.mp3`) },
          })),
        ),
      );
      return run(process.execPath, [BIN, '-w', String(WORKERS), '-q', '--output', 'none', dlJobs]);
    },
    'xargs -P2 curl -so': (out) => {
      writeFileSync(
        dlPairs,
        Array.from(
          { length: DOWNLOADS },
          (_, i) => `${join(out, `song-${i}.mp3`)} ${base}/song-${i}.mp3\n`,
        ).join(''),
      );
      return run('sh', ['-c', `xargs -P${WORKERS} -n2 curl -so < '${dlPairs}'`]);
    },
  },
  DOWNLOADS,
);
server.kill('SIGKILL');

// --- report ----------------------------------------------------------------------------------------------
function summarize(times, peer) {
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(median(v))]));
  return {
    runsMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.map((x) => Math.round(x))])),
    medianMs: med,
    ratio: Number((med.poolrun / med[peer]).toFixed(3)),
  };
}
const results = {
  benchmark: 'B5 copy and download jobs',
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown' },
  rounds: ROUNDS,
  workers: WORKERS,
  ratioMeaning: 'poolrun median / peer median: below 1 means poolrun is faster',
  copy: {
    files: COPIES,
    bytesEach: COPY_SIZE,
    peer: 'xargs -P2 -n2 cp',
    ...summarize(copyTimes, 'xargs -P2 cp'),
  },
  download: {
    files: DOWNLOADS,
    bytesEach: DOWNLOAD_SIZE,
    peer: 'xargs -P2 -n2 curl -so',
    ...summarize(downloadTimes, 'xargs -P2 curl -so'),
  },
};
// Arrays of numbers on one line, as prettier prints them: the file stays as `npm run check` wants it.
const text = JSON.stringify(results, null, 2).replace(
  /\[\s*([-\d.,\s]+?)\s*\]/g,
  (_, xs) =>
    `[${xs
      .split(',')
      .map((x) => x.trim())
      .join(', ')}]`,
);
writeFileSync(join(ROOT, 'bench', 'b5-results.json'), text + '\n');
for (const k of ['copy', 'download']) {
  const r = results[k];
  const sides = Object.entries(r.medianMs)
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join('  ');
  console.log(`B5 ${k}: ${r.files} × ${r.bytesEach / 1024} KiB  ${sides}  ratio ${r.ratio}`);
}
