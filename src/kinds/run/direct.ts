/**
 * Runs a command string without /bin/sh when the shell would do nothing but run it: one exec fewer per job
 * (Debian's dash forks and execs even the last command of `sh -c`). Only a command of plain words qualifies,
 * and the child gets exactly what dash would have given it: the same argv, the environment dash exports (PWD
 * as dash sets it, names that are not shell names dropped), the same exit status, and a signal death reported
 * as a signal (dash re-raises its child's signal). Anything else — and any failure to exec, such as a missing
 * command or a script without `#!` — goes through /bin/sh as before, so its messages and statuses are dash's.
 */
import { realpathSync, statSync } from 'node:fs';
import { constants } from 'node:os';

/** Words the shell would take literally: no quoting, expansion, globbing, redirection, comment or separator. */
const PLAIN = /^[A-Za-z0-9_@%+=,./:-]+(?:[ \t]+[A-Za-z0-9_@%+=,./:-]+)*$/;

/** dash's builtins and reserved words: these mean something else than a program of that name. */
const SHELL_WORDS = new Set(
  (
    '. : [ alias bg break cd chdir command continue echo eval exec exit export false fc fg getopts hash jobs kill ' +
    'local printf pwd read readonly return set shift test times trap true type ulimit umask unalias unset wait ' +
    'if then else elif fi case esac for while until do done in'
  ).split(' '),
);

/** Variables dash resets at start-up: with one of them set, the shell's environment differs; let it run. */
const RESET_BY_DASH = ['IFS', 'PPID', 'OPTIND'];

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What follows mimics dash; where /bin/sh is another shell (bash sets SHLVL and `_`...), every job uses it. */
let shIsDash: boolean | undefined;
function isDash(): boolean {
  if (shIsDash === undefined) {
    try {
      shIsDash = /(^|\/)dash$/.test(realpathSync('/bin/sh'));
    } catch {
      shIsDash = false;
    }
  }
  return shIsDash;
}

/** The argv of a command string the shell would run as is, or undefined. */
export function plainArgv(command: string): string[] | undefined {
  if (!isDash()) return undefined;
  const trimmed = command.trim();
  if (!PLAIN.test(trimmed)) return undefined;
  const argv = trimmed.split(/[ \t]+/);
  const first = argv[0]!;
  if (SHELL_WORDS.has(first) || first.includes('=') || first.startsWith('-')) return undefined;
  return argv;
}

const pwdCache = new Map<string, string>();

type Env = Record<string, string | undefined>;

/** What shellEnv needs of the worker's environment, worked out once per copy of it (not once per job). */
interface ShellBase {
  exported: Record<string, string>;
  resets: boolean;
  pathOk: boolean;
}
let baseOf: Env | undefined;
let base: ShellBase | undefined;

function shellBase(env: Env): ShellBase {
  if (baseOf !== env || !base) {
    baseOf = env;
    base = { exported: shellNames(env), resets: resetsSome(env), pathOk: searchablePath(env.PATH) };
  }
  return base;
}

/** Variables with names the shell can export; dash drops the others. */
function shellNames(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in env) {
    const v = env[k];
    if (v !== undefined && SHELL_NAME.test(k)) out[k] = v;
  }
  return out;
}

function resetsSome(env: Env): boolean {
  return RESET_BY_DASH.some((k) => env[k] !== undefined);
}

/** A PATH search is done by libuv instead of dash: only where both surely agree (absolute entries, none empty). */
function searchablePath(path: string | undefined): boolean {
  return !!path && path.split(':').every((d) => d.startsWith('/'));
}

/**
 * The environment dash would pass on, or undefined when that cannot be told without running dash. The shell
 * itself would have been given `{ ...env, ...extra }`: `env` is the worker's (the same object job after job,
 * so what it holds is worked out once), `extra` the job's own; `cwd` is where the job runs.
 */
export function shellEnv(
  env: Env,
  extra: Env,
  cwd: string,
  argv0: string,
): Record<string, string> | undefined {
  const b = shellBase(env);
  if (b.resets || resetsSome(extra)) return undefined;
  if (!argv0.includes('/') && !(extra.PATH !== undefined ? searchablePath(extra.PATH) : b.pathOk))
    return undefined;
  const out = { ...b.exported, ...shellNames(extra) };
  const pwd = shellPwd(extra.PWD ?? env.PWD, cwd);
  if (pwd === undefined) return undefined;
  out.PWD = pwd;
  return out;
}

/** dash keeps an inherited PWD that is absolute and names the current folder; otherwise it sets the real path. */
function shellPwd(inherited: string | undefined, cwd: string): string | undefined {
  const key = `${inherited ?? ''}\0${cwd}`;
  let pwd = pwdCache.get(key);
  if (pwd !== undefined) return pwd;
  try {
    const here = statSync(cwd);
    if (inherited?.startsWith('/')) {
      const there = statSync(inherited, { throwIfNoEntry: false });
      if (there && there.dev === here.dev && there.ino === here.ino) pwd = inherited;
    }
    pwd ??= realpathSync(cwd);
  } catch {
    return undefined;
  }
  if (pwdCache.size > 100) pwdCache.clear();
  pwdCache.set(key, pwd);
  return pwd;
}

/** glibc's strsignal(), which dash prints when a command it waited for died of a signal. */
const DESCRIPTIONS: Record<string, string> = {
  SIGHUP: 'Hangup',
  SIGQUIT: 'Quit',
  SIGILL: 'Illegal instruction',
  SIGTRAP: 'Trace/breakpoint trap',
  SIGABRT: 'Aborted',
  SIGBUS: 'Bus error',
  SIGFPE: 'Floating point exception',
  SIGKILL: 'Killed',
  SIGUSR1: 'User defined signal 1',
  SIGSEGV: 'Segmentation fault',
  SIGUSR2: 'User defined signal 2',
  SIGALRM: 'Alarm clock',
  SIGTERM: 'Terminated',
  SIGSTKFLT: 'Stack fault',
  SIGXCPU: 'CPU time limit exceeded',
  SIGXFSZ: 'File size limit exceeded',
  SIGVTALRM: 'Virtual timer expired',
  SIGPROF: 'Profiling timer expired',
  SIGIO: 'I/O possible',
  SIGPWR: 'Power failure',
  SIGSYS: 'Bad system call',
};

/**
 * What `sh -c` reports when the command alone died of a signal (a crash, an abort, a kill of its pid): dash
 * prints the signal's description (not for SIGINT and SIGPIPE) and exits 128 + its number. A signal sent to the
 * whole group (poolrun's timeout, halt, Ctrl-C) kills the shell too, so that case needs no translation.
 */
export function asShellWouldReport(signal: string): { exitCode: number; message: string } {
  const num = (constants.signals as Record<string, number | undefined>)[signal] ?? 0;
  const quiet = signal === 'SIGINT' || signal === 'SIGPIPE';
  return {
    exitCode: 128 + num,
    message: quiet ? '' : `${DESCRIPTIONS[signal] ?? `Unknown signal ${num}`}\n`,
  };
}
