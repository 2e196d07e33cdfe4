import type { Stats } from 'node:fs';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  lstatSync,
  readlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Writes all of `buf` at the file's position (writeSync may write less than asked). */
export function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** NAME_MAX of Linux and most file systems: a name is at most 255 bytes (of UTF-8), not characters. */
export const NAME_MAX = 255;

/**
 * The longest prefix of `s` that is at most `maxBytes` bytes of UTF-8, cut between two characters (never inside
 * a multi-byte character or a surrogate pair). A lone surrogate counts as the 3 bytes of U+FFFD it becomes.
 */
export function cutUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s; // at most 3 bytes per UTF-16 unit
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}

/**
 * The one way a name is made beside `to` (temp files, temp folders, download parts): `<prefix><name><suffix>` in
 * the folder of `to`, the name cut at a UTF-8 boundary so that the whole fits NAME_MAX bytes (less `reserve`,
 * for names made from this one by appending).
 */
export function nameBeside(to: string, prefix: string, suffix: string, reserve = 0): string {
  const room = NAME_MAX - Buffer.byteLength(prefix) - Buffer.byteLength(suffix) - reserve;
  // Not join(): it would normalize `link/../f` to `f`, a folder the kernel does not reach through the link.
  return `${dirname(to)}/${prefix}${cutUtf8(basename(to), room)}${suffix}`;
}

/** Hidden, unique, in the destination's folder: `.<name>.<random>.poolrun-tmp`. */
export function tempBeside(to: string): string {
  return nameBeside(to, '.', `.${randomBytes(4).toString('hex')}.poolrun-tmp`);
}

/** What a file keeps of the file it replaces (keptFrom). */
export interface Kept {
  mode: number;
  /** The owner to keep (as root); none: the file stays ours. */
  uid?: number;
  gid?: number;
}

/**
 * What a file that replaces one of these stats keeps of it, as `>`, `curl -o` and `wget -O` do: its mode (a 0600
 * file stays 0600) and, when root writes it, its owner. Set-id bits are never kept (the new content is data; as
 * root it keeps its owner, so a 4755 would stay setuid). undefined unless it is a regular file (a symbolic link
 * is replaced, not its target: nothing of the target is kept).
 */
export function keptFrom(st: Stats): Kept | undefined {
  return st.isFile() ? { mode: st.mode & 0o1777, uid: st.uid, gid: st.gid } : undefined;
}

/** keptFrom of `file` as it is now; undefined for a new file, created as any new file is (0666 & ~umask). */
function existing(file: string): Kept | undefined {
  try {
    return keptFrom(lstatSync(file));
  } catch {
    return undefined;
  }
}

/**
 * The file a path that is a symbolic link names (which may not exist yet), links within links followed up to
 * Linux's 40, the path as the kernel reads it (`link/..` is the target's parent): what a write through the path
 * would reach. A run's own outputs are not written through links (the rename replaces the link: a link planted in a
 * shared folder cannot redirect the write); this says which file a joblog opened through one, or a check, reaches.
 */
export function followLinks(file: string): string {
  for (let hops = 0; hops < 40; hops++) {
    let target: string;
    try {
      if (!lstatSync(file).isSymbolicLink()) return file;
      target = readlinkSync(file);
    } catch {
      return file;
    }
    file = target.startsWith('/') ? target : `${dirname(file)}/${target}`;
  }
  return file;
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
  const keep = existing(file);
  // Replacing a file: the temp starts private (0600), so content meant for a 0600 file is never readable by
  // others while it is written, and gets the old file's mode before the rename. A new file: 0666 & ~umask.
  const fd = openSync(tmp, 'wx', keep === undefined ? 0o666 : 0o600);
  try {
    await fill((b) => writeAll(fd, b));
    if (keep !== undefined) {
      // Before the mode: chown clears set-id bits.
      if (process.getuid?.() === 0 && keep.uid !== undefined && keep.gid !== undefined)
        fchownSync(fd, keep.uid, keep.gid);
      fchmodSync(fd, keep.mode);
    }
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
