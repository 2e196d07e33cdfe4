/** Helpers of the failure-control tests: a poolrun that runs in the background, and pid files. */
import { execa, type ResultPromise } from 'execa';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { BIN, pidAlive, tempDir, waitFor } from './helpers.js';

export const modes = ['thread', 'process'] as const;

/** poolrun as a background process, to be signalled. `detached` puts it in a process group of its own, as a
 * shell puts a foreground job, so the test can signal the whole group as a terminal's Ctrl-C does. */
export function startPoolrun(
  args: string[],
  opts: { detached?: boolean } = {},
): ResultPromise<{
  reject: false;
  detached: boolean;
  timeout: number;
  stripFinalNewline: false;
  env: Record<string, string>;
}> {
  return execa(process.execPath, [BIN, ...args], {
    reject: false,
    detached: opts.detached ?? false,
    timeout: 120_000,
    stripFinalNewline: false,
    env: { NO_COLOR: '1' },
  });
}

/** The numbers in a file, one per line (a missing file has none). */
export function readNumbers(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}

export function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

export function survivors(pids: number[]): number[] {
  return pids.filter(pidAlive);
}

/** Waits until `file` holds at least `n` pids; fails the test with what it saw if they never come. */
export async function waitForPids(file: string, n: number, ms = 40_000): Promise<number[]> {
  const ok = await waitFor(() => readNumbers(file).length >= n, ms, 50);
  if (!ok) throw new Error(`expected ${n} pids in ${file}, got ${readNumbers(file).length}`);
  return readNumbers(file);
}

export { writeJobs } from './helpers.js';

/** A temp folder per test, removed after it. */
export function temps(): { temp: () => string; cleanup: () => void } {
  let cleanups: Array<() => void> = [];
  return {
    temp: () => {
      const t = tempDir();
      cleanups.push(t.cleanup);
      return t.dir;
    },
    cleanup: () => {
      for (const c of cleanups) c();
      cleanups = [];
    },
  };
}

/** Processes in one treeJob. */
export const TREE_SIZE = 4;

/**
 * A job tree of four processes, each writing its pid to `pids`: the job's shell, its `sleep`, a background
 * subshell, and the subshell's own `sleep` (a grandchild). `trapTerm` makes every one of them ignore SIGTERM.
 */
export function treeJob(pids: string, trapTerm = false): string {
  return (
    (trapTerm ? "trap '' TERM; " : '') +
    `echo $$ >> ${pids}; (sleep 60 & echo $! >> ${pids}; wait) & echo $! >> ${pids}; ` +
    `sleep 60 & echo $! >> ${pids}; wait`
  );
}

/** The watchdog helpers whose parent is `pid` (read from /proc: `ps` is not on every machine). */
export function watchdogsOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === pid && cmd.includes('poolrun-watchdog')) found.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}
