/**
 * B1 before and after a change, alternated in one run (issue 15): 1000 `true` jobs through poolrun as it is here
 * and as it is in another checkout (`--before DIR`, built: DIR/bin/poolrun.js), in both modes, at -w 2 (the goal)
 * and -w 1 (the latency of one job, no contention), beside xargs and the Node+addon floor
 * (sides/native-loop.mjs: the addon, two sockets per child, nothing else of poolrun).
 *
 *   node bench/b1-before-after.mjs --before /tmp/poolrun-before --runs 5 [--threads]
 *
 * `--threads`: afterwards, CPU per thread of each poolrun side (main thread, the two busiest others), from
 * /proc/PID/task/TID/stat polled every 3 ms while it runs (the last value seen before a thread ends).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { alternate, benchOptions, median, scratchFile, withRatios, NODE, BENCH, BIN } from './lib.mjs';

const argv = process.argv.slice(2);
const opts = benchOptions(argv);
const at = argv.indexOf('--before');
const before = at >= 0 ? join(argv[at + 1], 'bin', 'poolrun.js') : undefined;
const n = opts.quick ? 200 : 1000;
const lines = scratchFile(`true-${n}.txt`, (p) => writeFileSync(p, 'true\n'.repeat(n)));
const numbers = scratchFile(`seq-${n}.txt`, (p) =>
  writeFileSync(p, Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('')),
);
const env = { POOLRUN_SPAWN: 'native' };
const poolrunSides = [];
for (const [label, bin] of [['after', BIN], ...(before ? [['before', before]] : [])]) {
  for (const w of ['2', '1']) {
    poolrunSides.push({ name: `${label} thread -w${w}`, cmd: [NODE, bin, '-q', '-w', w, lines], env });
    poolrunSides.push({
      name: `${label} process -w${w}`,
      cmd: [NODE, bin, '-q', '-w', w, '-m', 'process', lines],
      env,
    });
  }
}
const sides = [
  { name: 'xargs -P2', cmd: ['sh', '-c', `xargs -P2 -n1 sh -c true < ${numbers}`] },
  { name: 'xargs -P1', cmd: ['sh', '-c', `xargs -P1 -n1 sh -c true < ${numbers}`] },
  { name: 'node addon loop x2', cmd: [NODE, join(BENCH, 'sides', 'native-loop.mjs'), String(n), '2'] },
  { name: 'node addon loop x1', cmd: [NODE, join(BENCH, 'sides', 'native-loop.mjs'), String(n), '1'] },
  ...poolrunSides,
];
const rows = withRatios(await alternate(sides, opts), 'xargs -P2');
console.log('| side | median wall | median CPU | ratio to xargs -P2 | runs (s) |\n|---|--:|--:|--:|---|');
for (const r of rows)
  console.log(
    `| ${r.tool} | ${(r.medianWallMs / 1000).toFixed(2)} s | ${(r.medianCpuMs / 1000).toFixed(2)} s | ${r.ratio.toFixed(2)}× | ${r.wallMs.map((x) => (x / 1000).toFixed(2)).join(', ')} |`,
  );

if (argv.includes('--threads')) {
  console.log('\n| side | main thread | busiest other two | all threads |\n|---|--:|--:|--:|');
  for (const side of poolrunSides) {
    const runs = [];
    for (let i = 0; i < opts.runs; i++) runs.push(await threadCpu(side));
    const col = (k) => `${Math.round(median(runs.map((r) => r[k])))} ms`;
    console.log(`| ${side.name} | ${col('main')} | ${col('others')} | ${col('all')} |`);
  }
}

/** CPU ms per thread of one run of `side`'s process: its main thread, its two busiest others, all. */
function threadCpu(side) {
  const tick = 100; // USER_HZ on Linux
  return new Promise((resolve) => {
    const child = spawn(side.cmd[0], side.cmd.slice(1), {
      stdio: 'ignore',
      env: { ...process.env, ...side.env },
    });
    const last = new Map();
    const poll = () => {
      let tids = [];
      try {
        tids = readdirSync(`/proc/${child.pid}/task`);
      } catch {
        return;
      }
      for (const tid of tids) {
        try {
          const s = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'latin1');
          const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
          last.set(Number(tid), ((Number(f[11]) + Number(f[12])) * 1000) / tick);
        } catch {
          /* the thread has ended */
        }
      }
    };
    const timer = setInterval(poll, 3);
    child.on('exit', () => {
      clearInterval(timer);
      const main = last.get(child.pid) ?? 0;
      const others = [...last]
        .filter(([t]) => t !== child.pid)
        .map(([, v]) => v)
        .sort((a, b) => b - a);
      resolve({
        main,
        others: (others[0] ?? 0) + (others[1] ?? 0),
        all: main + others.reduce((a, b) => a + b, 0),
      });
    });
  });
}
