/**
 * `mkdir -p`, one level at a time. Node 20's `mkdir(…, { recursive: true })` loops forever, at full CPU and
 * deaf to signals on the main thread, where mkdir(2) says ENOENT although the parent exists (`/proc/x/y`: procfs
 * takes no new folder): it makes the parent again, and again. Here that ENOENT is the error.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';

type PathLike = string | Buffer;

const SLASH = 0x2f;

/** The folder above `p`, or undefined for a lone relative name (the working folder is above it). */
function parentOf(p: Buffer): Buffer | undefined {
  let end = p.length;
  while (end > 1 && p[end - 1] === SLASH) end--;
  const i = p.lastIndexOf(SLASH, end - 1);
  if (i < 0) return undefined;
  if (i === 0) return p[0] === SLASH && end > 1 ? Buffer.from('/') : undefined;
  return p.subarray(0, i);
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function notDir(p: Buffer): Error {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${p.toString()}'`), {
    code: 'ENOTDIR',
    syscall: 'mkdir',
    path: p.toString(),
  });
}

/** Makes `path` and the folders above it that are missing (mode 0o777 & ~umask, as mkdir -p). */
export function mkdirsSync(path: PathLike): void {
  const missing: Buffer[] = [];
  for (let p: Buffer | undefined = Buffer.from(path); p; p = parentOf(p)) {
    try {
      if (!statSync(p).isDirectory()) throw notDir(p);
      break;
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e;
      missing.push(p);
    }
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      // Made meanwhile by someone else: fine if it is a folder.
      if (code(e) !== 'EEXIST' || !statSync(d).isDirectory()) throw e;
    }
  }
}

/** mkdirsSync, without blocking. Returns the folders it made, outermost first (made by another meanwhile: not). */
export async function mkdirs(path: PathLike): Promise<Buffer[]> {
  const made: Buffer[] = [];
  const missing: Buffer[] = [];
  for (let p: Buffer | undefined = Buffer.from(path); p; p = parentOf(p)) {
    try {
      if (!(await stat(p)).isDirectory()) throw notDir(p);
      break;
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e;
      missing.push(p);
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
      made.push(d);
    } catch (e) {
      if (code(e) !== 'EEXIST' || !(await stat(d)).isDirectory()) throw e;
    }
  }
  return made;
}

/** The folder that holds `p` (`.` for a lone relative name). */
export function folderOf(p: Buffer): Buffer {
  return parentOf(p) ?? Buffer.from('.');
}
