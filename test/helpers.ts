import { execa, type Options } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'poolrun.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the real CLI as a subprocess, as a user's shell would. */
export async function poolrun(args: string[], opts: Options = {}): Promise<CliResult> {
  const t0 = performance.now();
  const r = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    timeout: 120_000,
    stripFinalNewline: false,
    env: { NO_COLOR: '1', ...(opts.env as Record<string, string> | undefined) },
    ...opts,
  });
  return {
    code: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    ms: performance.now() - t0,
  };
}

/** A temp folder, removed by the returned cleanup. */
export function tempDir(prefix = 'poolrun-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** True while the pid is a live process; a zombie (exited, not yet reaped) counts as dead. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 25): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

export interface ResultsDoc {
  summary: {
    total: number;
    succeeded: number;
    failed: number;
    timedOut: number;
    cancelled: number;
    durationMs: number;
  };
  results: Array<{
    id: string;
    index: number;
    kind: string;
    status: string;
    exitCode: number | null;
    signal: string | null;
    attempts: number;
    worker: number | null;
    pid: number | null;
    threadId: number | null;
    startedAt: string | null;
    durationMs: number | null;
    stdout: string;
    stderr: string;
    value: unknown;
    error: { name: string; message: string } | null;
  }>;
}

export function readJson<T = ResultsDoc>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * A temp folder per call, all removed after each test of the file that calls this at its top level (or, with
 * `'all'`, after the file's last test: a file whose tests share what they wrote).
 */
export function useTempDirs(removeAfter: 'each' | 'all' = 'each'): () => string {
  let cleanups: Array<() => void> = [];
  (removeAfter === 'each' ? afterEach : afterAll)(() => {
    for (const c of cleanups) c();
    cleanups = [];
  });
  return () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
}

/** Writes `jobs` as a JSON job file in `dir`; returns its path. */
export function writeJobs(dir: string, jobs: unknown, name = 'jobs.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(jobs, null, 2));
  return file;
}
