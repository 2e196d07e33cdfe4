/**
 * The files a run writes (--json, --junit, --report, --joblog): checked before anything runs, so a typo or a
 * path that can never hold the file costs nothing, and never reached in a way that can hang or replace what is
 * not a file.
 */
import { closeSync, constants, openSync, statSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { PoolrunError, UsageError } from '../errors.js';
import { printable } from '../util/text.js';

/** Writing a result file failed at the end of a run (disk full, folder removed meanwhile). */
export class OutputFileError extends PoolrunError {}

/** What a path that exists but is no regular file is, in words. */
export function notRegular(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  return 'a device';
}

/**
 * A results file (written whole at the end, by replacing the file): its folder must exist and take a new file,
 * and the path must be absent or a regular file. A FIFO or a device is refused: renaming over /dev/null would
 * replace the device, and opening a FIFO waits for a reader.
 */
export function checkWritable(option: string, file: string): void {
  // As given, not normalized: `nodir/../out.json` cannot be written when `nodir` does not exist, as the kernel
  // reads it (path.resolve would make it `./out.json`, and the run's results were lost at its end).
  const dir = dirname(file);
  checkFolder(option, file, dir);
  let st;
  try {
    st = statSync(file);
  } catch {
    st = undefined; // absent (or a dangling link, which the new file replaces)
  }
  if (st?.isDirectory()) throw new UsageError(`${option}: ${printable(file)} is a folder`);
  if (st && !st.isFile())
    throw new UsageError(
      `${option}: cannot write ${printable(file)}: it is ${notRegular(st)}, not a regular file`,
    );
  probe(option, file, dir);
}

/** The folder a file goes in: it exists and is a folder. */
export function checkFolder(option: string, file: string, dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR')
      throw new UsageError(
        `${option}: cannot write ${printable(file)}: a part of ${printable(dir)} is not a folder`,
      );
    throw new UsageError(
      `${option}: cannot write ${printable(file)}: folder ${printable(dir)} does not exist`,
    );
  }
  if (!isDir)
    throw new UsageError(`${option}: cannot write ${printable(file)}: ${printable(dir)} is not a folder`);
}

/**
 * Creates and removes a file of a new name in the folder: the one check that answers for root (who passes
 * every access() test), read-only mounts, /proc and the like alike.
 */
function probe(option: string, file: string, dir: string): void {
  const tmp = `${dir}/.poolrun-probe-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fd: number;
  try {
    fd = openSync(
      tmp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (e) {
    throw new UsageError(
      `${option}: cannot write ${printable(file)}: folder ${printable(dir)} does not take new files (${reason(e)})`,
    );
  }
  closeSync(fd);
  try {
    unlinkSync(tmp);
  } catch {
    /* removed meanwhile */
  }
}

/** An errno in words, without the syscall and path Node adds. */
export function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOENT: 'no such file or folder',
    ENOTDIR: 'a part of the path is not a folder',
    EISDIR: 'it is a folder',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENXIO: 'a named pipe with no reader',
    ELOOP: 'too many symbolic links',
    ENAMETOOLONG: 'the name is too long',
  };
  return err?.code && words[err.code] ? `${words[err.code]}, ${err.code}` : (err?.message ?? String(e));
}
