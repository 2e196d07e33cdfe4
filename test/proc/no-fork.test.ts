/**
 * On the native spawn path nothing of a thread-mode run forks poolrun (issue 15): the jobs and the watchdog are
 * started with posix_spawn (clone with CLONE_VM|CLONE_VFORK: no copy of poolrun's memory), where libuv's fork()
 * copies the page tables of the whole process. Seen from outside, with strace, on the clone calls of the tree.
 * The node path is the control: there libuv forks for the watchdog and every job.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, track, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

const canTrace =
  spawnSync('strace', ['-f', '-qq', '-e', 'trace=clone', '-o', '/dev/null', 'true']).status === 0;
const NODE_ONLY = process.env.POOLRUN_SPAWN === 'node';

/** The process-creating calls of poolrun's tree: each with whether it shares memory (a thread or a vfork). */
async function clones(path: 'native' | 'node', jobs: string[]) {
  const dir = temp();
  const file = join(dir, 'jobs.txt');
  writeFileSync(file, jobs.join('\n') + '\n');
  const log = join(dir, 'strace.log');
  const r = await track(
    execa(
      'strace',
      ['-f', '-qq', '-e', 'trace=clone,clone3,fork,vfork', '-o', log, process.execPath, BIN, '-q', file],
      { reject: false, timeout: 60_000, env: { NO_COLOR: '1', POOLRUN_SPAWN: path } },
    ),
  );
  expect(r.exitCode).toBe(0);
  const calls = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => /\b(clone3?|v?fork)\(/.test(l));
  return {
    stdout: r.stdout,
    // A new process that copies poolrun: fork(), or clone without CLONE_VM.
    forks: calls.filter((l) => /\bfork\(/.test(l) || (/\bclone3?\(/.test(l) && !/CLONE_VM/.test(l))),
    // Processes started without a copy (posix_spawn: CLONE_VM|CLONE_VFORK), threads left out.
    spawns: calls.filter((l) => /CLONE_VFORK/.test(l) || /\bvfork\(/.test(l)),
  };
}

describe.skipIf(!canTrace)('starting processes without a fork of poolrun', () => {
  it.skipIf(NODE_ONLY)('native path: the jobs and the watchdog are spawned, nothing is forked', async () => {
    const r = await clones('native', ['echo a', 'echo b; sleep 0.1']);
    expect(r.stdout).toBe('a\nb');
    expect(r.forks).toEqual([]);
    // The two jobs and the watchdog, at least (a job's shell may start its own).
    expect(r.spawns.length).toBeGreaterThanOrEqual(3);
  });

  it('node path (the control): libuv forks for the watchdog and each job', async () => {
    const r = await clones('node', ['echo a', 'echo b; sleep 0.1']);
    expect(r.stdout).toBe('a\nb');
    expect(r.forks.length).toBeGreaterThanOrEqual(3);
  });
});
