/**
 * Putting a finished file or folder at its destination so that readers see nothing, or all of it: the data is
 * written beside the destination (a rename across file systems is not atomic), synced, then renamed into place,
 * and the folder is synced so the rename itself survives a crash.
 */
import { dirname } from 'node:path';
import { chmod, link, lstat, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { JobError, errnoCode, fsError } from './job-error.js';
import { keptFrom, tempBeside, type Kept } from '../util/atomic.js';
import { folderOf, mkdirs } from '../util/mkdirs.js';

/**
 * Runs `create`, which makes an entry in the folder of `to`. When that folder is missing it is made, as
 * `mkdir -p` and `curl --create-dirs` do, and `create` runs once more: no mkdir per job in the usual case.
 */
export async function inFolderOf<T>(
  name: string,
  to: string,
  create: () => Promise<T>,
  durable = false,
): Promise<T> {
  try {
    return await create();
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    // No check first: another job may be making the same folder right now, and mkdir -p is fine with that.
    // When the folder was there all along, the second try fails as the first did, for its own reason.
    const folder = dirname(to);
    try {
      const made = await mkdirs(folder);
      // With fsync, each new folder's name is synced in the folder that holds it, as the file's is later: a
      // power loss must not take away the folder a succeeded job's file is in.
      if (durable) for (const d of made) await syncDir(folderOf(d));
    } catch (e2) {
      throw fsError(name, e2, 'create the folder', folder);
    }
    return create();
  }
}

export async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** What a file that replaces `to` keeps of it (util/atomic keptFrom, as poolrun's results files do). */
export async function keptOf(to: string): Promise<Kept | undefined> {
  const st = await lstatOrUndefined(to).catch(() => undefined);
  return st && keptFrom(st);
}

/** Gives the open replacement what it keeps of the file it replaces (the owner first: chown clears set-id bits). */
export async function applyKept(fh: FileHandle, kept: Kept): Promise<void> {
  if (process.getuid?.() === 0 && kept.uid !== undefined && kept.gid !== undefined)
    await fh.chown(kept.uid, kept.gid);
  await fh.chmod(kept.mode);
}

export function destinationExists(name: string, to: string): JobError {
  return new JobError(name, `destination exists: ${to} (set "overwrite": true to replace it)`, 'EEXIST');
}

/** Even with `overwrite`, a file does not replace a folder... */
export function destinationIsFolder(name: string, to: string): JobError {
  return new JobError(name, `destination is a folder: ${to} (not replaced by a file)`, 'EISDIR');
}

/** ...nor a folder a file. */
export function destinationNotFolder(name: string, to: string): JobError {
  return new JobError(name, `destination is not a folder: ${to} (not replaced by a folder)`, 'ENOTDIR');
}

/**
 * Moves a complete, synced file to `to`. Without `overwrite` a hard link is the move: it fails if anything
 * appeared at `to` meanwhile, where a rename would silently replace it.
 */
export async function placeFile(name: string, tmp: string, to: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    try {
      await rename(tmp, to);
    } catch (e) {
      if (errnoCode(e) === 'EISDIR') throw destinationIsFolder(name, to);
      throw fsError(name, e, 'rename into place', to);
    }
  } else {
    try {
      await link(tmp, to);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EEXIST') throw destinationExists(name, to);
      // File systems without hard links (some FUSE and network mounts): check, then rename.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS')
        throw fsError(name, e, 'create', to);
      if (await lstatOrUndefined(to)) throw destinationExists(name, to);
      try {
        await rename(tmp, to);
      } catch (e2) {
        throw fsError(name, e2, 'rename into place', to);
      }
      return;
    }
    await unlink(tmp);
  }
}

/**
 * Moves a complete folder to `to`. Replacing an existing folder takes two renames (there is no atomic swap
 * in Node): between them `to` is briefly absent, never partial.
 */
export async function placeDir(name: string, tmp: string, to: string, overwrite: boolean): Promise<void> {
  const existing = await lstatOrUndefined(to);
  if (existing && !overwrite) throw destinationExists(name, to);
  if (existing && !existing.isDirectory()) throw destinationNotFolder(name, to);
  if (!existing) {
    try {
      await rename(tmp, to);
    } catch (e) {
      // An empty folder created at `to` meanwhile would be replaced by rename(2); anything else fails here.
      if (errnoCode(e) === 'ENOTEMPTY' || errnoCode(e) === 'EEXIST') throw destinationExists(name, to);
      throw fsError(name, e, 'rename into place', to);
    }
    return;
  }
  const old = tempBeside(to);
  try {
    await rename(to, old);
  } catch (e) {
    throw fsError(name, e, 'move aside', to);
  }
  try {
    await rename(tmp, to);
  } catch (e) {
    await rename(old, to).catch(() => {});
    throw fsError(name, e, 'rename into place', to);
  }
  await removeTree(old);
}

/** Makes a rename or a new entry in `dir` durable. */
export async function syncDir(dir: string | Buffer): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some file systems cannot fsync a folder; the data itself is synced already.
    if (errnoCode(e) !== 'EINVAL' && errnoCode(e) !== 'ENOTSUP') throw e;
  } finally {
    await fh.close();
  }
}

/** Removes a temp tree, even one whose copied folders are read-only (a non-root user cannot empty those). */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch {
    await makeWritable(path);
    await rm(path, { recursive: true, force: true }).catch(() => {});
  }
}

/** Names read as bytes: a folder whose name is not UTF-8 is reached too. */
async function makeWritable(dir: string | Buffer): Promise<void> {
  try {
    await chmod(dir, 0o700);
    for (const ent of await readdir(dir, { withFileTypes: true, encoding: 'buffer' })) {
      if (ent.isDirectory())
        await makeWritable(Buffer.concat([Buffer.from(dir), Buffer.from('/'), ent.name]));
    }
  } catch {
    /* best effort */
  }
}
