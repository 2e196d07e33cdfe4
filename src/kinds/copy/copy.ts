/**
 * `copy` jobs: a file or a folder tree, copied inside the worker (no `cp` process per file). The data goes
 * through a reflink where the file system has them, else a read/write loop that stops at end of file (whatever the
 * size said) and between chunks when the job is stopped, into an exclusively created temp file or temp tree beside
 * the destination, which is renamed into place: `to` is absent or complete, never
 * partial. With `fsync` (the job field or --fsync) the data and the folders are also synced, so that this holds
 * after a power loss too; without it, as with `cp`, the kernel writes them back when it will. Modes and modification times are kept, except the set-user-ID and set-group-ID bits,
 * which are dropped as `cp` without `-p` drops them (a copy of a setuid binary, made by root, must not be one).
 */
import { constants, existsSync, type Stats } from 'node:fs';
import {
  chmod,
  copyFile,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  stat,
  symlink,
  utimes,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { eachLimit, isWithin, realDestination, realpathOr, timesOf, type Seconds } from './paths.js';
import type { CopySpec } from '../types.js';
import type { JobContext } from '../context.js';
import type { Outcome } from '../outcome.js';
import { runMover, type Moved } from '../outcome.js';
import { tempBeside } from '../../util/atomic.js';
import { JobError, errnoCode, fsError } from '../job-error.js';
import {
  destinationExists,
  destinationIsFolder,
  destinationNotFolder,
  inFolderOf,
  lstatOrUndefined,
  placeDir,
  placeFile,
  removeTree,
  syncDir,
} from '../place.js';

const NAME = 'CopyError';
/** Files of one tree copied at once: enough to overlap small-file latency, within libuv's 4 pool threads. */
const TREE_PARALLEL = 4;
/** Set-user-ID and set-group-ID: never kept on a copy, of a file or of a folder. */
const SETID = 0o6000;
/** One read/write chunk of a copy. */
const CHUNK = 1024 * 1024;
/** Chunk buffers no copy is using, reused by the next (a tree copies TREE_PARALLEL files at once). */
const spare: Buffer[] = [];

/**
 * The mode a copy gets: the source's permission and sticky bits, never its set-id bits (and, replacing a file or
 * folder, only the bits that one had too: copy()'s `cap`).
 */
function copyMode(st: { mode: number | bigint }): number {
  return Number(st.mode) & 0o7777 & ~SETID;
}

/** Stopped by the pool (timeout, halt), a copy has already removed its temp data. */
export function runCopy(spec: CopySpec, ctx: JobContext): Promise<Outcome> {
  return runMover(NAME, ctx.signal, (moved) => copy(spec, ctx.signal, moved));
}

async function copy(spec: CopySpec, signal: AbortSignal, moved: Moved): Promise<void> {
  const { from, to, overwrite } = spec;
  const durable = spec.fsync === true;
  let src: Stats;
  try {
    src = await stat(from);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new JobError(NAME, `source not found: ${from}`, 'ENOENT');
    throw fsError(NAME, e, 'read', from);
  }
  if (!src.isFile() && !src.isDirectory())
    throw new JobError(NAME, `cannot copy ${from}: not a regular file or a folder`);
  // Into itself by name, or through a symbolic link on the way to `to` (`to: link/x`, link → from).
  if (
    src.isDirectory() &&
    (isWithin(to, from) || isWithin(await realDestination(to), await realpathOr(from)))
  )
    throw new JobError(NAME, `cannot copy the folder ${from} into itself (${to})`);

  let dest: Stats | undefined;
  try {
    dest = await lstatOrUndefined(to);
  } catch (e) {
    throw fsError(NAME, e, 'reach', to);
  }
  if (dest) {
    if (!overwrite) throw destinationExists(NAME, to);
    if (dest.dev === src.dev && dest.ino === src.ino)
      throw new JobError(NAME, `source and destination are the same file: ${to}`);
    if (src.isFile() && dest.isDirectory()) throw destinationIsFolder(NAME, to);
    if (src.isDirectory() && !dest.isDirectory()) throw destinationNotFolder(NAME, to);
  }

  // A copy that replaces a file or folder gets no permission the one it replaces did not have (umask-like).
  const cap = dest && !dest.isSymbolicLink() ? dest.mode & 0o7777 : 0o7777;
  if (src.isFile()) {
    const tmp = tempBeside(to);
    let copied: number;
    try {
      copied = await inFolderOf(
        NAME,
        to,
        () => copyData(treePath(from), treePath(tmp, to), true, false, durable, signal, cap),
        durable,
      );
      signal.throwIfAborted();
      await placeFile(NAME, tmp, to, overwrite);
    } catch (e) {
      await removeTree(tmp);
      throw e;
    }
    moved.bytes += copied;
  } else {
    await copyTree(from, to, src, overwrite, signal, moved, durable, cap);
  }
  if (durable) await syncDir(dirname(to));
}

/** Where an open file can be opened again by the kernel (fs.copyFile takes a path): /proc, else its name. */
let procFd: boolean | undefined;
function pathOf(fd: number, name: Buffer): string | Buffer {
  procFd ??= existsSync('/proc/self/fd');
  return procFd ? `/proc/self/fd/${fd}` : name;
}

/** Set once a reflink has failed as unsupported here: later copies go straight to the read/write loop. */
let noReflink = false;
/** Source file systems a reflink could not cross from (EXDEV): their later copies skip the attempt. */
const crossed = new Set<number>();
const NO_REFLINK = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EINVAL', 'ENOSYS', 'ENOTTY']);

/**
 * A reflink of the open source into a new `tmp` (COPYFILE_FICLONE_FORCE: one FICLONE ioctl, never libuv's
 * sendfile loop, which trusts st_size and spins forever on a file truncated meanwhile or on a sysfs file, and
 * copies nothing of a /proc file, and which nothing can stop on libuv's thread pool). False: not possible here.
 */
async function reflink(fd: number, dev: number, from: Buffer, tmp: Buffer): Promise<boolean> {
  if (noReflink || crossed.has(dev)) return false;
  try {
    await copyFile(pathOf(fd, from), tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch (e) {
    const code = errnoCode(e);
    // EXDEV: not the destination's file system (another one's copies may still reflink).
    if (code === 'EXDEV') {
      crossed.add(dev);
      return false;
    }
    if (code !== undefined && NO_REFLINK.has(code)) {
      noReflink = true;
      return false;
    }
    throw e;
  }
}

/**
 * Copies the open `src` into `out` chunk by chunk until a read returns nothing: the bytes the file holds, not the
 * size stat gave (a /proc file says 0, a sysfs file 4096, a file truncated meanwhile its old size). The job's
 * signal is checked between chunks, so a timeout, deadline or signal stops even a huge copy at once.
 */
async function copyLoop(src: FileHandle, out: FileHandle, signal: AbortSignal): Promise<number> {
  const buf = spare.pop() ?? Buffer.allocUnsafe(CHUNK);
  try {
    let pos = 0;
    for (;;) {
      signal.throwIfAborted();
      const { bytesRead } = await src.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) return pos;
      let done = 0;
      while (done < bytesRead) {
        const { bytesWritten } = await out.write(buf, done, bytesRead - done, pos + done);
        done += bytesWritten;
      }
      pos += bytesRead;
    }
  } finally {
    spare.push(buf);
  }
}

/**
 * Copies one file's data, mode and times into a new file at `tmp`, synced; returns the bytes copied (each path's
 * `shown` names it in errors). `exposed`: `tmp` sits in a folder others can reach (not inside a private 0700 temp tree).
 * The source is opened once and that open file is what is copied, with its own mode and times: no name is looked
 * up twice. O_NONBLOCK: a FIFO put in a file's place does not hang the copy; `nofollow` (inside a tree): a file
 * swapped for a symbolic link meanwhile is not followed, as `cp -r` does not follow it.
 */
async function copyData(
  from: TreePath,
  tmp: TreePath,
  exposed: boolean,
  nofollow: boolean,
  durable: boolean,
  signal: AbortSignal,
  cap = 0o7777,
): Promise<number> {
  let src: FileHandle;
  try {
    src = await open(
      from.bytes,
      constants.O_RDONLY | constants.O_NONBLOCK | (nofollow ? constants.O_NOFOLLOW : 0),
    );
  } catch (e) {
    throw fsError(NAME, e, 'read', from.shown);
  }
  try {
    // In nanoseconds, for the times (timesOf).
    const st = await src.stat({ bigint: true });
    if (!st.isFile())
      throw new JobError(NAME, `cannot copy ${from.shown}: not a regular file (it changed during the copy)`);
    let fh: FileHandle | undefined;
    try {
      let bytes: number;
      // A reflink gives the new file the source's mode, set-id bits included, before it can be changed: a setuid
      // temp file, for a moment, where others can reach it. Such a file is copied into a private file instead.
      // A file stat calls empty may not be (/proc): copied by reading it, so that what it holds is copied.
      if (
        !(exposed && Number(st.mode) & SETID) &&
        st.size > 0n &&
        (await reflink(src.fd, Number(st.dev), from.bytes, tmp.bytes))
      ) {
        // Read-only is enough to chmod, fsync and set times, and works for a copy of a read-only file.
        fh = await open(tmp.bytes, 'r');
        bytes = (await fh.stat()).size;
      } else {
        // EXCL: the temp name is ours alone; 0600 until the data is in and the mode is set.
        fh = await open(tmp.bytes, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        bytes = await copyLoop(src, fh, signal);
      }
      await fh.chmod(copyMode(st) & cap);
      await fh.utimes(...timesOf(st));
      // The data and the size; the times ride along with the rename, which the folder's fsync makes durable.
      if (durable) await fh.datasync();
      return bytes;
    } catch (e) {
      if (signal.aborted) throw e;
      if (e instanceof JobError) throw e;
      throw fsError(NAME, e, 'write', tmp.shown);
    } finally {
      await fh?.close();
    }
  } finally {
    await src.close();
  }
}

/** A path inside a tree: its bytes (a name need not be UTF-8) and how messages show it. */
interface TreePath {
  bytes: Buffer;
  shown: string;
}

interface DirEntry {
  src: TreePath;
  dst: TreePath;
  /** Its mode and times as they were when it was first read (times in utimes' seconds). */
  mode: number;
  times: [Seconds, Seconds];
}

const SLASH = Buffer.from(sep);

/** A path given as text; `shown` names it in messages (a temp name is shown as where it is going). */
function treePath(path: string, shown = path): TreePath {
  return { bytes: Buffer.from(path), shown };
}

/** `name` inside `dir`, as bytes: names that are not UTF-8 are copied as they are, not as U+FFFD. */
function inside(dir: TreePath, name: Buffer): TreePath {
  return { bytes: Buffer.concat([dir.bytes, SLASH, name]), shown: join(dir.shown, name.toString()) };
}

/**
 * A tree is built in a hidden temp folder beside `to`, then renamed into place: complete or absent. Folders
 * get their modes and times last (a read-only folder must stay writable while it is filled, and adding
 * entries changes its mtime). Names are read and made as bytes, so a name that is not UTF-8 is copied as it is.
 */
async function copyTree(
  from: string,
  to: string,
  root: Stats,
  overwrite: boolean,
  signal: AbortSignal,
  moved: Moved,
  durable: boolean,
  cap: number,
): Promise<void> {
  const tmp = tempBeside(to);
  try {
    await inFolderOf(NAME, to, () => mkdir(tmp, { mode: 0o700 }), durable);
  } catch (e) {
    throw fsError(NAME, e, 'create a folder in', dirname(to));
  }
  try {
    const made = await lstat(tmp, { bigint: true });
    const top: DirEntry = {
      src: treePath(from),
      // Shown as where it is going: the temp folder's name means nothing to the user.
      dst: treePath(tmp, to),
      mode: root.mode,
      times: timesOf(await stat(from, { bigint: true })),
    };
    const dirs: DirEntry[] = [top];
    const files: Array<{ src: TreePath; dst: TreePath }> = [];
    // Breadth first: every folder is made before any file, and the reverse order finishes children first.
    for (let i = 0; i < dirs.length; i++) {
      signal.throwIfAborted();
      const dir = dirs[i]!;
      let entries;
      try {
        entries = await readdir(dir.src.bytes, { withFileTypes: true, encoding: 'buffer' });
      } catch (e) {
        throw fsError(NAME, e, 'read the folder', dir.src.shown);
      }
      for (const ent of entries) {
        const s = inside(dir.src, ent.name);
        const d = inside(dir.dst, ent.name);
        if (ent.isDirectory()) {
          const st = await lstat(s.bytes, { bigint: true });
          // The temp tree itself, reached another way (a bind mount of `to`'s folder inside `from`): stop
          // rather than copy the copy into itself until names are too long.
          if (st.dev === made.dev && st.ino === made.ino)
            throw new JobError(NAME, `cannot copy the folder ${from} into itself (${to})`);
          try {
            await mkdir(d.bytes, { mode: 0o700 });
          } catch (e) {
            throw fsError(NAME, e, 'create the folder', d.shown);
          }
          dirs.push({ src: s, dst: d, mode: Number(st.mode), times: timesOf(st) });
        } else if (ent.isFile()) {
          files.push({ src: s, dst: d });
        } else if (ent.isSymbolicLink()) {
          // Kept as a link, as `cp -a` and rsync -a do: its target may be relative to the tree (and its bytes
          // are kept too).
          try {
            const st = await lstat(s.bytes, { bigint: true });
            await symlink(await readlink(s.bytes, { encoding: 'buffer' }), d.bytes);
            await lutimes(d.bytes, ...timesOf(st));
          } catch (e) {
            throw fsError(NAME, e, 'copy the symbolic link', s.shown);
          }
        } else {
          throw new JobError(NAME, `cannot copy ${s.shown}: not a regular file, folder or symbolic link`);
        }
      }
    }
    await eachLimit(files, TREE_PARALLEL, async (f) => {
      signal.throwIfAborted();
      // Read, then added: `moved.bytes += await …` would add to the total read before the await (lanes overlap).
      const n = await copyData(f.src, f.dst, false, true, durable, signal);
      moved.bytes += n;
    });
    signal.throwIfAborted();
    for (let i = dirs.length - 1; i >= 0; i--) {
      const dir = dirs[i]!;
      try {
        if (durable) await syncDir(dir.dst.bytes);
        await chmod(dir.dst.bytes, copyMode(dir) & (dir === top ? cap : 0o7777));
        await utimes(dir.dst.bytes, ...dir.times);
      } catch (e) {
        throw fsError(NAME, e, 'finish the folder', dir.dst.shown);
      }
    }
    await placeDir(NAME, tmp, to, overwrite);
  } catch (e) {
    await removeTree(tmp);
    throw e;
  }
}
