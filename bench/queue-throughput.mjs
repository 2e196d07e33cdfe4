#!/usr/bin/env node
// Throughput of the distributed mode on this machine: one producer, 1 then 2 `poolrun worker` processes, on a
// redis-server started here (and stopped by pid). Beside it, the same job files run locally, as the yardstick.
//
//   node bench/queue-throughput.mjs [--jobs N] [--sleep-jobs N] [--workers-per-process N] [--repeat N]
//
// Two loads: N × `true` (what dispatch costs per job) and N × `sleep 0.1` (how well slots are kept busy).
// jobs/s is counted from the first job's start to the last job's end (the --json results), so the producer's
// start-up (loading bullmq, connecting) is not in it; the wall time, which includes it, is shown too.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, median } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : Number(args[i + 1]);
};
const TRUE_JOBS = opt('--jobs', 600);
const SLEEP_JOBS = opt('--sleep-jobs', 200);
const PER_PROCESS = opt('--workers-per-process', 2);
const REPEAT = opt('--repeat', 3);

const dir = mkdtempSync(join(tmpdir(), 'poolrun-bench-queue-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
function ping(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok) => (s.destroy(), resolve(ok));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

function startWorker(url) {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, '-w', String(PER_PROCESS), '-q'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

function stopByPid(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    process.kill(child.pid, 'SIGTERM');
  });
}

function runPoolrun(extra, file) {
  const json = join(dir, 'out.json');
  const t0 = performance.now();
  execFileSync(process.execPath, [BIN, '-q', '--output', 'none', '--json', json, ...extra, file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const wall = performance.now() - t0;
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  if (doc.summary.succeeded !== doc.summary.total)
    throw new Error(`bench run failed: ${JSON.stringify(doc.summary)}`);
  const starts = doc.results.map((r) => Date.parse(r.startedAt));
  const ends = doc.results.map((r) => Date.parse(r.startedAt) + r.durationMs);
  const span = Math.max(...ends) - Math.min(...starts);
  return { wall, span, n: doc.results.length };
}

function measure(label, extra, file) {
  const runs = Array.from({ length: REPEAT }, () => runPoolrun(extra, file));
  const span = median(runs.map((r) => r.span));
  const wall = median(runs.map((r) => r.wall));
  const n = runs[0].n;
  return {
    label,
    jobs: n,
    jobsPerSec: Math.round((n / span) * 1000),
    spanMs: Math.round(span),
    wallMs: Math.round(wall),
  };
}

const port = await freePort();
const redis = spawn(
  'redis-server',
  ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
const url = `redis://127.0.0.1:${port}/0`;
const workers = [];
try {
  while (!(await ping(port))) await sleep(50);
  const trueFile = join(dir, 'true.json');
  writeFileSync(trueFile, JSON.stringify(Array.from({ length: TRUE_JOBS }, () => 'true')));
  const sleepFile = join(dir, 'sleep.json');
  writeFileSync(sleepFile, JSON.stringify(Array.from({ length: SLEEP_JOBS }, () => 'sleep 0.1')));

  const rows = [];
  for (const [name, file] of [
    ['true', trueFile],
    ['sleep 0.1', sleepFile],
  ]) {
    rows.push(measure(`${name}: local, -w ${PER_PROCESS}`, ['-w', String(PER_PROCESS)], file));
    rows.push(measure(`${name}: local, -w ${2 * PER_PROCESS}`, ['-w', String(2 * PER_PROCESS)], file));
    workers.push(startWorker(url));
    await sleep(1500);
    rows.push(measure(`${name}: queue, 1 worker process × ${PER_PROCESS}`, ['--queue', url], file));
    workers.push(startWorker(url));
    await sleep(1500);
    rows.push(measure(`${name}: queue, 2 worker processes × ${PER_PROCESS}`, ['--queue', url], file));
    await Promise.all(workers.splice(0).map(stopByPid));
  }

  console.log(`poolrun queue throughput — ${availableParallelism()} cores, median of ${REPEAT} runs`);
  console.log(
    `${'load'.padEnd(44)} ${'jobs/s'.padStart(8)} ${'span ms'.padStart(9)} ${'wall ms'.padStart(9)}`,
  );
  for (const r of rows)
    console.log(
      `${r.label.padEnd(44)} ${String(r.jobsPerSec).padStart(8)} ${String(r.spanMs).padStart(9)} ${String(r.wallMs).padStart(9)}`,
    );
  for (const load of ['true', 'sleep 0.1']) {
    const one = rows.find((r) => r.label.startsWith(`${load}: queue, 1`));
    const two = rows.find((r) => r.label.startsWith(`${load}: queue, 2`));
    console.log(`${load}: 2 worker processes / 1 = ${(two.jobsPerSec / one.jobsPerSec).toFixed(2)}×`);
  }
  console.log(JSON.stringify({ bench: 'queue-throughput', rows }));
} finally {
  await Promise.all(workers.map(stopByPid));
  process.kill(redis.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
