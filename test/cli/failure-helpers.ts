/** Helpers of the failure-control tests: a poolrun that runs in the background, and pid files. */
import { execa, type ResultPromise } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { BIN, CLI_TIMEOUT_MS, pidAlive, track, waitFor } from '../helpers.js';
import { childPids } from '../worker-procs.js';

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
  const detached = opts.detached ?? false;
  return track(
    execa(process.execPath, [BIN, ...args], {
      reject: false,
      detached,
      timeout: CLI_TIMEOUT_MS,
      stripFinalNewline: false,
      env: { NO_COLOR: '1' },
    }),
    detached,
  );
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
  return pids.filter((p) => pidAlive(p));
}

/** Waits until `file` holds at least `n` pids; fails the test with what it saw if they never come. */
export async function waitForPids(file: string, n: number, ms = 40_000): Promise<number[]> {
  const ok = await waitFor(() => readNumbers(file).length >= n, ms, 50);
  if (!ok) throw new Error(`expected ${n} pids in ${file}, got ${readNumbers(file).length}`);
  return readNumbers(file);
}

export { writeJobs } from '../helpers.js';

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
  return childPids(pid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('poolrun-watchdog');
    } catch {
      return false; // gone meanwhile
    }
  });
}
