/**
 * `--call MODULE#EXPORT [ARG...]`: one call per argument, or per line (NUL-separated item with -0) of stdin when
 * there is none, read as it arrives (as --each reads it). Each argument is JSON where it parses (`3`, `[1,2]`,
 * `{"a":1}`), else the string it is.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printable } from '../util/text.js';
import { TextDecoder } from 'node:util';
import { UsageError } from '../errors.js';
import { formatPath } from '../jobs/issues.js';
import type { JobFileProblem } from '../errors.js';
import { duplicateKeys, duplicateMessage } from '../jobs/duplicates.js';
import type { Job } from '../kinds/types.js';
import { isJson, NON_FINITE_MESSAGE, nonFiniteAt } from '../util/json.js';
import { depthMessage, tooDeepAt } from '../util/limits.js';
import { streamedSource, type JobSource } from './source.js';
import { stdinItems, stoppedAt } from './stdin-items.js';

interface Target {
  module: string;
  export: string;
}

export function callSource(
  target: string,
  args: readonly string[],
  nul: boolean,
  skipBlank: boolean,
  /** The module is looked for here (not through a queue, whose workers import it). */
  local = true,
): JobSource {
  const t = parseTarget(target, local);
  if (args.length > 0) {
    const jobs = args.map((a, index) => callJob(t, argValue(a, index), index));
    return { jobs, total: jobs.length, name: '--call' };
  }
  if (process.stdin.isTTY) {
    throw new UsageError(
      '--call without arguments reads them from stdin, which is a terminal: pass arguments, or pipe them in',
    );
  }
  return streamedSource('<stdin>', fromStdin(t, nul, skipBlank));
}

function parseTarget(target: string, local: boolean): Target {
  const hash = target.lastIndexOf('#');
  const modulePart = hash === -1 ? target : target.slice(0, hash);
  const exportName = hash === -1 ? 'default' : target.slice(hash + 1);
  if (!modulePart || !exportName) {
    throw new UsageError(`--call: expected MODULE#EXPORT such as ./tasks.mjs#square, got "${target}"`);
  }
  const module = /^(file|data|node):/.test(modulePart) ? modulePart : resolve(modulePart);
  if (local) moduleFileProblem(module, modulePart);
  return { module, export: exportName };
}

/**
 * A module named as a path (or a `file:` URL) that is no file: exit 2 before any call, as a job file not found is,
 * rather than every call failing with ERR_MODULE_NOT_FOUND. Node imports the path as given (no extension added).
 */
function moduleFileProblem(module: string, given: string): void {
  let path: string;
  try {
    path = module.startsWith('file:') ? fileURLToPath(module) : module;
  } catch {
    return; // a file: URL Node itself will refuse, and say why
  }
  if (/^(data|node):/.test(module)) return;
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new UsageError(
        `--call: module not found: ${printable(given)}${path === given ? '' : ` (${printable(path)})`}`,
      );
    return;
  }
  if (st.isDirectory())
    throw new UsageError(
      `--call: the module ${printable(given)} is a directory: name its file (./dir/index.mjs)`,
    );
}

function callJob(t: Target, arg: unknown, index: number): Job {
  return {
    id: String(index + 1),
    index,
    kind: 'call',
    call: { module: t.module, export: t.export, args: [arg] },
  };
}

/**
 * An argument: JSON where it parses, else the string; or the problem with it, placed in `name` (`argument 2`),
 * or at `line` of it (`<stdin>:7`).
 */
function parseArg(a: string, name: string, line?: number): { value: unknown } | { problem: JobFileProblem } {
  const place = line === undefined ? name : `${name}:${line}`;
  // A job document's nesting limit. A deep text that is not JSON stays the string it is: nothing nests in it.
  const deep = tooDeepAt(a);
  if (deep !== -1 && isJson(a)) {
    const where = line === undefined ? `${name}, column ${deep + 1}` : `${place}:${deep + 1}`;
    return { problem: { where, message: depthMessage() } };
  }
  let value: unknown;
  try {
    value = JSON.parse(a);
  } catch {
    return { value: a };
  }
  const dup = duplicateKeys(a, value, { name, line: line ?? 1, column: 1 })[0];
  if (dup) return { problem: { where: dup.where, message: duplicateMessage(dup) } };
  const at = nonFiniteAt(value);
  if (!at) return { value };
  // `argument 2.a[1]`; `<stdin>:3: value.a[1]`
  if (line === undefined) return { problem: { where: formatPath(at, name), message: NON_FINITE_MESSAGE } };
  return {
    problem: { where: place, path: at.length ? formatPath(at, 'value') : '', message: NON_FINITE_MESSAGE },
  };
}

function argValue(a: string, index: number): unknown {
  const r = parseArg(a, `argument ${index + 1}`);
  if ('value' in r) return r.value;
  const p = r.problem;
  throw new UsageError(`--call: ${p.where}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
}

/** Empty items are skipped (with -r, blank ones too), as --each skips them: empty input runs nothing, exit 0. */
async function* fromStdin(t: Target, nul: boolean, skipBlank: boolean): AsyncGenerator<Job[]> {
  let index = 0;
  // The calls handed on: a bad line stops the run after them (the good ones read with it are not run).
  let submitted = 0;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for await (const batch of stdinItems(nul, skipBlank, (p) => stoppedAt(p, submitted))) {
    const jobs: Job[] = [];
    for (const { line, item } of batch) {
      const arg = argOfLine(utf8, item, line, nul);
      if ('problem' in arg) throw stoppedAt(arg.problem, submitted);
      jobs.push(callJob(t, arg.value, index++));
    }
    submitted += jobs.length;
    yield jobs;
  }
}

function argOfLine(utf8: TextDecoder, item: Buffer, line: number, nul: boolean): ReturnType<typeof parseArg> {
  let text: string;
  try {
    text = utf8.decode(item);
    // As a job file's lines: a CRLF ends a line, a byte-order mark starts none of its text.
    if (!nul && text.endsWith('\r')) text = text.slice(0, -1);
    if (line === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
  } catch {
    const message = 'not UTF-8: a call is given JavaScript values (write bytes as JSON, say base64)';
    return { problem: { where: `<stdin>:${line}`, message } };
  }
  return parseArg(text, '<stdin>', line);
}
