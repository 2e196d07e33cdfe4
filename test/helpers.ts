import { execa, type Options } from 'execa';
import {
  chmodSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { afterAll, afterEach } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

/** A CLI run is given up (killed) before its test times out, so the test reports what the CLI printed. */
export const CLI_TIMEOUT_MS = 50_000;

/**
 * For a test that loops over many generated cases (each CLI run bounded by CLI_TIMEOUT_MS): its time scales with
 * the case count and with the machine's load. 10–35 s on an idle 2-core machine became 2–3× that with two CPU hogs
 * beside the suite, and a 24 s one passed 60 s (a loaded run failed on it, having found nothing wrong).
 */
export const GENERATED_TIMEOUT_MS = 300_000;

interface Spawned {
  pid?: number;
  kill: (signal?: NodeJS.Signals) => boolean;
  spawnargs: string[];
}
const spawned = new Set<{ child: Spawned; group: boolean; start: number | undefined }>();

/**
 * Registers a process a test started; test/setup-env.ts kills every one still running after each test (a failed
 * assertion must not leave a poolrun, and the jobs its watchdog then kills, running into the next test).
 * `group`: the child leads a process group of its own (execa's `detached`), and the whole group is killed.
 */
export function track<T extends Spawned>(child: T, group = false): T {
  // Its start time: the number alone may be someone else's by the time it is killed.
  const entry = { child, group, start: child.pid === undefined ? undefined : pidStart(child.pid) };
  spawned.add(entry);
  void Promise.resolve(child as unknown as Promise<unknown>)
    .catch(() => undefined)
    .finally(() => spawned.delete(entry));
  return child;
}

/** Kills what track() registered and is still running; returns how many. */
export function killTracked(): number {
  let n = 0;
  for (const { child, group, start } of spawned) {
    if (child.pid === undefined || start === undefined || !pidAlive(child.pid, start)) continue;
    n++;
    try {
      if (group) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  spawned.clear();
  return n;
}

/** Runs the real CLI as a subprocess, as a user's shell would. */
export function poolrun(args: string[], opts: Options = {}): Promise<CliResult> {
  return poolrunAt(BIN, args, opts);
}

/** poolrun() of another copy of the package (see packageCopy). */
export async function poolrunAt(bin: string, args: string[], opts: Options = {}): Promise<CliResult> {
  const t0 = performance.now();
  const r = await track(
    execa(process.execPath, [bin, ...args], {
      reject: false,
      timeout: CLI_TIMEOUT_MS,
      stripFinalNewline: false,
      env: { NO_COLOR: '1', ...(opts.env as Record<string, string> | undefined) },
      ...opts,
    }),
  );
  return {
    code: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    ms: performance.now() - t0,
  };
}

/**
 * `file args` (GNU parallel, or node and poolrun) as a GNU-parallel comparison runs it: a clean HOME (no
 * ~/.parallel/config of the user's), GNU's shell as poolrun's, no colour, C.UTF-8; stdin `input` or none.
 */
export async function runClean(
  file: string,
  args: string[],
  opts: { cwd: string; home: string; input?: string },
): Promise<{ code: number; out: Buffer; err: string }> {
  const r = await track(
    execa(file, args, {
      cwd: opts.cwd,
      reject: false,
      encoding: 'buffer',
      stripFinalNewline: false,
      ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
      timeout: 50_000,
      env: {
        HOME: opts.home,
        PATH: process.env.PATH,
        NO_COLOR: '1',
        LC_ALL: 'C.UTF-8',
        PARALLEL_SHELL: '/bin/sh',
      },
      extendEnv: false,
    }),
  );
  return { code: r.exitCode ?? -1, out: Buffer.from(r.stdout), err: Buffer.from(r.stderr).toString('utf8') };
}

/**
 * A copy of the package in `dir` that every user can read and run — bin/, dist/, package.json and schema/, with
 * node_modules linked to the checkout's (which nobody must be able to read) — for a test that runs poolrun as another user (`nobody`), whom the
 * checkout's own folders (a home folder of mode 0700, say) may shut out. Returns its bin/poolrun.js.
 */
export function packageCopy(dir: string): string {
  const root = join(dir, 'poolrun-package');
  mkdirSync(root);
  // native/: the spawn addon, as an install has it (CI forces POOLRUN_SPAWN=native on one of its two runs).
  for (const part of ['bin', 'dist', 'package.json', 'schema', 'native'])
    cpSync(join(ROOT, part), join(root, part), { recursive: true });
  // To where node_modules really is (a worktree's may be a link into another checkout): nobody must pass
  // through the checkout's own folders to reach it.
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(root, 'node_modules'));
  const open = (path: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      chmodSync(path, 0o755);
      for (const name of readdirSync(path)) open(join(path, name));
    } else chmodSync(path, st.mode & 0o111 ? 0o755 : 0o644);
  };
  open(root);
  // The folders above it too (a temp folder is made 0700).
  for (let up = dir; up !== dirname(up) && up.startsWith(tmpdir()) && up !== tmpdir(); up = dirname(up))
    chmodSync(up, statSync(up).mode | 0o055);
  return join(root, 'bin', 'poolrun.js');
}

/** A temp folder, removed by the returned cleanup. */
export function tempDir(prefix = 'poolrun-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The fields of /proc/PID/stat after the command name (field 3, the state, first); undefined if it is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * When the process started, in clock ticks since boot (/proc/PID/stat field 22): with the pid, it names one
 * process, not whichever process reuses the number later. Undefined if it is gone.
 */
export function pidStart(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[22 - 3]) : undefined;
}

/**
 * True while the pid is a live process; a zombie (exited, not yet reaped) counts as dead. With `start` (from
 * pidStart while it ran), a process that reuses the number is not it: dead too.
 */
export function pidAlive(pid: number, start?: number): boolean {
  const f = statFields(pid);
  if (!f) return false;
  if (f[0] === 'Z' || f[0] === 'X') return false;
  return start === undefined || Number(f[22 - 3]) === start;
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 25,
): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (await cond()) return true;
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

/** A small deterministic generator (mulberry32): generated cases are the same on every run, replayable by seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Words that look like options, separators or the subcommand: after --each/--call each must stay an argument. */
export const OPTION_LIKE_WORDS = [
  '-rf',
  '--',
  '-',
  '--help',
  '-h',
  '--version',
  '-V',
  'worker',
  ':::',
  '::::',
  ':::+',
  '::::+',
  '-qw4',
  '-0',
];
