/**
 * --results DIR: GNU parallel's tree. Each job's output goes to DIR/<name1>/<value1>/<name2>/<value2>/…/ in the
 * files `seq` (the job number, no newline), `stdout` and `stderr` (what the job printed, untagged), where a
 * source's name is its number (1, 2, …) or its --header name. In a value, `\` is written `\\`, TAB `\t`, NUL `\0`
 * and `/` `\_`; a value longer than a file name may be (255 bytes) is cut, as GNU cuts it, only when the path
 * cannot be made otherwise. Like GNU, `.`, `..` and the empty value are not escaped: `DIR/1/../stdout` is
 * DIR/stdout (a path never leaves DIR: each `..` only undoes its own source's number). Files are written raw: a
 * value's bytes need not be UTF-8.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import type { JobOutput } from '../executor/executor.js';
import type { Job, JobResult } from '../kinds/types.js';
import { valuesOf } from '../input/values.js';

const NAME_MAX = 255;

export function escapeValue(v: Buffer): Buffer {
  const out: number[] = [];
  for (const b of v) {
    if (b === 0x5c) out.push(0x5c, 0x5c);
    else if (b === 0x09) out.push(0x5c, 0x74);
    else if (b === 0x00) out.push(0x5c, 0x30);
    else if (b === 0x2f) out.push(0x5c, 0x5f);
    else out.push(b);
  }
  return Buffer.from(out);
}

/** The folder of one job's results (without the trailing slash). */
export function resultsFolder(dir: string, job: Job, cut = false): Buffer {
  const { values, names } = valuesOf(job);
  const parts: Buffer[] = [Buffer.from(dir)];
  values.forEach((v, i) => {
    const e = escapeValue(v);
    parts.push(Buffer.from(names?.[i] ?? String(i + 1)), cut ? e.subarray(0, NAME_MAX) : e);
  });
  const SLASH = Buffer.from('/');
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i) out.push(SLASH);
    out.push(p);
  });
  return Buffer.concat(out);
}

function makeFolder(dir: string, job: Job): Buffer {
  let folder = resultsFolder(dir, job);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENAMETOOLONG') throw e;
    folder = resultsFolder(dir, job, true);
    mkdirSync(folder, { recursive: true });
  }
  return folder;
}

const file = (folder: Buffer, name: string) => Buffer.concat([folder, Buffer.from(`/${name}`)]);

/** Writes one finished job's files. A spilled stream is copied from its file (the printer removes that later). */
export function writeResults(dir: string, job: Job, result: JobResult, output: JobOutput | undefined): void {
  const folder = makeFolder(dir, job);
  writeFileSync(file(folder, 'seq'), String(result.index + 1));
  const stream = (name: 'stdout' | 'stderr', head: Buffer | undefined, spilled: string | undefined) => {
    if (spilled) copyFileSync(spilled, file(folder, name));
    else writeFileSync(file(folder, name), head ?? Buffer.alloc(0));
  };
  stream('stdout', output?.stdout, output?.stdoutFile);
  stream('stderr', output?.stderr, output?.stderrFile);
}
