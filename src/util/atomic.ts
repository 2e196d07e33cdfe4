import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Writes all of `buf` at the file's position (writeSync may write less than asked). */
export function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** Hidden, unique, in the destination's folder: `.<name>.<random>.poolrun-tmp`. */
export function tempBeside(to: string): string {
  // NAME_MAX is 255 bytes: leave room for the decoration.
  const base = basename(to).slice(0, 200);
  return join(dirname(to), `.${base}.${randomBytes(4).toString('hex')}.poolrun-tmp`);
}

/** Makes a rename or a new entry in `dir` durable, where the file system can (not every one syncs a folder). */
export function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not every filesystem lets a directory be synced */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes a file so that readers see the old content or the whole new one, never a part: `fill` writes into an
 * exclusively created temp file in the same folder (a rename across file systems is not atomic), which is then
 * fsynced and renamed into place. On any failure the temp file is removed and the target left as it was.
 */
export async function writeFileAtomicWith(
  file: string,
  fill: (write: (b: Buffer) => void) => Promise<void> | void,
): Promise<void> {
  const tmp = tempBeside(file);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    await fill((b) => writeAll(fd, b));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  return writeFileAtomicWith(file, (write) => write(typeof data === 'string' ? Buffer.from(data) : data));
}
