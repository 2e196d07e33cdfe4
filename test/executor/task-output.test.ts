/**
 * What a task prints (submit(task, …), map()) reaches the program's own stdout and stderr, as Python's print in a
 * pool's worker does (the seed's say_hi); a job's output (submit({run}), submit({call})) stays in its JobResult
 * and in `output` events. Acceptance probe: a task's console.log was silently dropped.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT, track, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

const TASKS = `
export function hi(who) { console.log('hi ' + who); console.error('warn ' + who); return 7; }
export function line(i) { console.log('line ' + i); return i; }
export async function inherit() { const { execSync } = await import('node:child_process'); execSync('echo from-a-child', { stdio: 'inherit' }); return 1; }
export function spew(mib) { const s = 'x'.repeat(1024 * 1024); for (let i = 0; i < mib; i++) process.stdout.write(s); return mib; }
export async function later(who) { process.stdout.write('part ' + who); await new Promise((r) => setTimeout(r, 50)); console.log(' end'); return 1; }
`;

const APP = `
import { ThreadPoolExecutor, ProcessPoolExecutor, task } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
const [mode, tasks] = process.argv.slice(2);
const seen = [];
const Pool = mode === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
const ex = new Pool({ maxWorkers: 1, onEvent: (e) => e.event === 'output' && seen.push(e.job.id + ':' + e.stream + ':' + e.data.toString().trim()) });
const hi = task(tasks, 'hi');
console.log('value', await ex.submit(hi, 'g1').result());
const values = [];
for await (const v of ex.map(hi, ['m1', 'm2'])) values.push(v);
console.log('map', values.join(','));
console.log('later', await ex.submit(task(tasks, 'later'), 'x').result());
// A child that inherits the worker's stdout writes to the program's, in a process pool as in a thread.
await ex.submit(task(tasks, 'inherit')).result();
const shell = await ex.submit({ id: 'sh', run: 'echo shell-out; echo shell-err >&2' }).result();
console.log('shell', JSON.stringify(shell.stdout), JSON.stringify(shell.stderr));
const call = await ex.submit({ id: 'cj', call: { module: tasks, export: 'hi', args: ['j1'] } }).result();
console.log('call job', call.value, JSON.stringify(call.stdout));
await ex.shutdown();
console.log('events', seen.filter((s) => s.startsWith('sh:') || s.startsWith('cj:')).sort().join(' | '));
`;

describe.each(['thread', 'process'] as const)('%s pool: what a task prints', (mode) => {
  it('reaches the program’s stdout and stderr as it comes; a job’s output stays in its result and events', async () => {
    const dir = temp();
    const tasks = join(dir, 'tasks.mjs');
    writeFileSync(tasks, TASKS);
    writeFileSync(join(dir, 'app.mjs'), APP);
    const r = await track(
      execa(process.execPath, [join(dir, 'app.mjs'), mode, tasks], { reject: false, timeout: 60_000 }),
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'hi g1',
      'value 7',
      'hi m1',
      'hi m2',
      'map 7,7',
      'part x end',
      'later 1',
      'from-a-child',
      'shell "shell-out\\n" "shell-err\\n"',
      'call job 7 "hi j1\\n"',
      'events cj:stderr:warn j1 | cj:stdout:hi j1 | sh:stderr:shell-err | sh:stdout:shell-out',
    ]);
    expect(r.stderr.split('\n')).toEqual(['warn g1', 'warn m1', 'warn m2']);
  });
});

/** A program whose task prints 40 MiB, reporting how much of it ever waited in its own stdout. */
const SPEW_APP = `
import { ThreadPoolExecutor, ProcessPoolExecutor, task } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
const [mode, tasks] = process.argv.slice(2);
const Pool = mode === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
const ex = new Pool({ maxWorkers: 1 });
let max = 0;
const iv = setInterval(() => { max = Math.max(max, process.stdout.writableLength); }, 2);
await ex.submit(task(tasks, 'spew'), 40).result();
clearInterval(iv);
process.stderr.write('max ' + max + '\\n');
await ex.shutdown();
`;

/** A program printing through a task many times, its stdout read by \`head\`. */
const EPIPE_APP = `
import { ThreadPoolExecutor, ProcessPoolExecutor, task } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
const [mode, tasks] = process.argv.slice(2);
const Pool = mode === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
const ex = new Pool({ maxWorkers: 2 });
let sum = 0;
for (let round = 0; round < 10; round++) {
  for await (const v of ex.map(task(tasks, 'line'), Array.from({ length: 100 }, (_, i) => i))) sum += v;
  await new Promise((r) => setTimeout(r, 5));
}
await ex.shutdown();
process.stderr.write('finished ' + sum + '\\n');
`;

describe.each(['thread', 'process'] as const)('%s pool: a task printing into a pipe', (mode) => {
  // In process mode a function's synchronous writes cannot be paused (README), as for --output stream.
  it.skipIf(mode === 'process')(
    'a full pipe holds the task back: what waits in the program is bounded, not the whole output',
    async () => {
      const dir = temp();
      const tasks = join(dir, 'tasks.mjs');
      writeFileSync(tasks, TASKS);
      writeFileSync(join(dir, 'app.mjs'), SPEW_APP);
      // The reader takes a second before it reads: a task that is not held back fills the program's memory.
      const r = await track(
        execa('/bin/sh', ['-c', `"$NODE" app.mjs ${mode} "$T" | { sleep 1; wc -c; }`], {
          cwd: dir,
          reject: false,
          timeout: 60_000,
          env: { NODE: process.execPath, T: tasks },
        }),
      );
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(String(40 * 1024 * 1024));
      const max = Number(/max (\d+)/.exec(r.stderr)?.[1]);
      expect(max).toBeLessThan(8 * 1024 * 1024);
    },
  );

  it('a reader that goes away (| head) is no crash: the program finishes', async () => {
    const dir = temp();
    const tasks = join(dir, 'tasks.mjs');
    writeFileSync(tasks, TASKS);
    writeFileSync(join(dir, 'app.mjs'), EPIPE_APP);
    const r = await track(
      execa('/bin/sh', ['-c', `"$NODE" app.mjs ${mode} "$T" | head -c 10`], {
        cwd: dir,
        reject: false,
        timeout: 60_000,
        env: { NODE: process.execPath, T: tasks },
      }),
    );
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.stderr).toContain('finished 49500');
  });
});
