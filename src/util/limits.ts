/**
 * How much of any input poolrun will hold or descend into. Whatever arrives (a job file, stdin, a joblog, an
 * argument), past these it stops reading and says where, with exit 2: memory and stack stay bounded.
 *
 * - MAX_DEPTH: arrays and objects nested in one job document (a JSON file, a JSONL line, a `--call` argument),
 *   counted from its root. Real jobs need a handful of levels; the limit keeps every recursive step after
 *   parsing (schema, locations, hashing, structured clone to a worker) far from the stack's end.
 * - MAX_LINE_BYTES: one line of JSONL, lines input, a joblog, or one `--each` item (a line, or a `-0` item). The
 *   reader stops buffering at the limit: a 1 GB line costs 16 MiB, not 1 GB.
 * - MAX_DOCUMENT_BYTES: a JSON document, which is read whole (JSONL streams: use it for more jobs).
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';

export const MAX_DEPTH = 64;
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

export const LINE_LIMIT_WORDS = '16 MiB';
export const DOCUMENT_LIMIT_WORDS = '64 MiB';

/**
 * The longest string one argument or environment entry of exec may be on Linux (MAX_ARG_STRLEN, 32 pages, its NUL
 * included): a longer one fails the spawn with E2BIG. Checked when a job file is read.
 */
export const MAX_ARG_BYTES = 32 * 4096 - 1;

let pageSize: number | undefined;
/** The kernel's page size (AT_PAGESZ in /proc/self/auxv; 4096 where it cannot be read): 64 KiB on some arm64. */
function systemPageSize(): number {
  if (pageSize !== undefined) return pageSize;
  pageSize = 4096;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    const le = endianness() === 'LE';
    for (let i = 0; i + 16 <= auxv.length; i += 16) {
      const type = le ? auxv.readBigUInt64LE(i) : auxv.readBigUInt64BE(i);
      if (type === 0n) break;
      if (type === 6n) {
        pageSize = Number(le ? auxv.readBigUInt64LE(i + 8) : auxv.readBigUInt64BE(i + 8));
        break;
      }
    }
  } catch {
    // Not Linux, or no /proc: 4096.
  }
  return pageSize;
}

/**
 * The problem with `prefix` + `text` as one exec string (`what` says what it is), or undefined when it fits. The
 * prefix (`NAME=`) is counted, not joined: a job file's every id and env entry passes here.
 */
export function argTooLong(text: string, what: string, prefix = ''): string | undefined {
  // A UTF-16 unit is at most 3 bytes of UTF-8: most strings are known to fit without counting.
  if (text.length + prefix.length <= MAX_ARG_BYTES / 3) return undefined;
  const n = Buffer.byteLength(text) + Buffer.byteLength(prefix);
  if (n <= MAX_ARG_BYTES) return undefined;
  // The page size is read only for a string past the 4 KiB-page limit.
  const max = 32 * systemPageSize() - 1;
  return n > max
    ? `${what} is ${n} bytes: a command's argument or environment entry holds at most ${max} (Linux's limit for one, MAX_ARG_STRLEN)`
    : undefined;
}

/**
 * Offset (in `text`'s units) of the bracket that opens level `max + 1`, or -1 when the text never nests deeper
 * than `max`. Brackets inside strings do not count. Any text is safe: this is a scan, not a parse.
 */
export function tooDeepAt(text: string, max = MAX_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    }
  }
  return -1;
}

export function depthMessage(max = MAX_DEPTH): string {
  return `nested deeper than ${max} levels of arrays and objects (the limit for a job document)`;
}

/** A line (or item) that grew past MAX_LINE_BYTES before its end: `line` is its 1-based number. */
export class LineTooLong extends Error {
  constructor(
    readonly line: number,
    readonly limit: number,
  ) {
    super(`line ${line} is longer than ${limitWords(limit)}`);
  }
}

/** A stream past its limit of bytes. */
export class InputTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`larger than ${limitWords(limit)}`);
  }
}

function limitWords(limit: number): string {
  if (limit === MAX_LINE_BYTES) return LINE_LIMIT_WORDS;
  if (limit === MAX_DOCUMENT_BYTES) return DOCUMENT_LIMIT_WORDS;
  return `${limit} bytes`;
}

/** The message for a line past the limit, as the readers say it. */
export function lineTooLongMessage(limit = MAX_LINE_BYTES, what: 'line' | 'item' = 'line'): string {
  return `the ${what} is longer than ${limitWords(limit)} (the limit for one ${what} of input); nothing past it was read`;
}

export function documentTooLargeMessage(limit = MAX_DOCUMENT_BYTES): string {
  return `a JSON document larger than ${limitWords(limit)} is not read whole: write one job per line (JSONL) instead`;
}

let execSpace: number | null | undefined;
/**
 * Jobs are run on this machine: their size is checked against its limit. A queue producer's jobs run on the
 * workers, with their environment and their stack limit: not checked here (cli/source.ts).
 */
let execHere = true;
export function jobsRunElsewhere(): void {
  execHere = false;
}
/**
 * What exec lets a command's arguments and environment take together on Linux (fs/exec.c, bprm_stack_limits): a
 * quarter of the stack's soft limit (`ulimit -s`), at most 6 MiB and at least 128 KiB, for every string with its
 * NUL and a pointer to each. Null where /proc/self/limits cannot be read (not Linux): nothing is checked.
 */
export function execSpaceBytes(): number | null {
  if (execSpace !== undefined) return execSpace;
  try {
    const m = /^Max stack size\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const stack = !m ? NaN : m[1] === 'unlimited' ? Infinity : Number(m[1]);
    execSpace = Number.isNaN(stack)
      ? null
      : Math.max(Math.min(6 * 1024 * 1024, Math.floor(stack / 4)), 128 * 1024);
  } catch {
    execSpace = null;
  }
  return execSpace;
}

let baseEnvBytes: { total: number; count: number; sizes: Map<string, number> } | undefined;
/** What poolrun adds to every shell job's environment (POOLRUN_WORKER, PARALLEL_SEQ, the run's token…), at most. */
const OWN_ENV_BYTES = 512;

/**
 * The problem with running `argv` with `env` merged over poolrun's own environment, when exec would refuse it as
 * too large (E2BIG) for all its strings together, each within its own limit (argTooLong); else undefined.
 */
export function execTooLarge(
  argv: readonly string[],
  env: Record<string, string> | undefined,
): string | undefined {
  if (!execHere) return undefined;
  const space = execSpaceBytes();
  if (space === null) return undefined;
  if (!baseEnvBytes) {
    const sizes = new Map<string, number>();
    let total = 0;
    for (const [k, v] of Object.entries(process.env)) {
      const n = Buffer.byteLength(k) + Buffer.byteLength(v ?? '') + 2;
      sizes.set(k, n);
      total += n;
    }
    baseEnvBytes = { total, count: sizes.size, sizes };
  }
  let units = 0;
  let count = baseEnvBytes.count + argv.length + 8;
  for (const a of argv) units += a.length + 1;
  const own = env ? Object.entries(env) : [];
  for (const [k, v] of own) units += k.length + v.length + 2;
  const fixed = baseEnvBytes.total + OWN_ENV_BYTES;
  // A UTF-16 unit is at most 3 bytes of UTF-8: most jobs are known to fit without counting.
  if (fixed + 3 * units + 8 * (count + own.length) <= space) return undefined;
  let bytes = fixed;
  for (const a of argv) bytes += Buffer.byteLength(a) + 1;
  let envBytes = 0;
  for (const [k, v] of own) {
    envBytes += Buffer.byteLength(k) + Buffer.byteLength(v) + 2;
    const replaced = baseEnvBytes.sizes.get(k);
    if (replaced !== undefined) {
      envBytes -= replaced;
      count--;
    }
  }
  bytes += envBytes + 8 * (count + own.length);
  if (bytes <= space) return undefined;
  const envPart = own.length ? `, its env with defaults.env ${Math.max(envBytes, 0)}` : '';
  return `the command and its environment are ${bytes} bytes together (poolrun's environment ${baseEnvBytes.total}${envPart}): exec takes at most ${space} (Linux's limit for all of them, a quarter of \`ulimit -s\`)`;
}
