/**
 * The keyed part's lock (`.part.lock`): a file created O_EXCL, 0600, holding its holder's host, pid and start time,
 * so a lock left by a killed process is taken over and one still held keeps a second download off the part.
 */
import { constants, readFileSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { errnoCode, fsError } from '../job-error.js';

const NAME = 'DownloadError';
const NOFOLLOW = constants.O_NOFOLLOW;

/**
 * This process: its host, pid and start time (clock ticks since boot, /proc), which together survive pid reuse.
 */
let selfId: string | undefined;
function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

export interface Lock {
  file: string;
  content: string;
}

/**
 * Takes the part's lock: a file created O_EXCL holding `host pid start token`. A lock whose holder is gone (its pid
 * is dead, or is another process now) is taken over; one that is held, unreadable or not a regular file means
 * the part is busy: undefined.
 */
export async function lockPart(file: string): Promise<Lock | undefined> {
  selfId ??= `${hostname().replace(/\s/g, '_') || '-'} ${process.pid} ${processStart(process.pid)}`;
  const content = `${selfId} ${randomBytes(8).toString('hex')}\n`;
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fh = await open(
        file,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
        0o600,
      );
      try {
        await fh.writeFile(content);
      } finally {
        await fh.close();
      }
      return { file, content };
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' && tries === 0) throw e; // the folder is missing: inFolderOf makes it
      if (errnoCode(e) !== 'EEXIST') throw fsError(NAME, e, 'create', file);
    }
    const held = await readLock(file);
    if (held === undefined) continue; // released meanwhile: try again
    if (held === false || holderAlive(held)) return undefined;
    // Stale: moved aside under a name of our own, checked to be the same stale lock (not one taken over by
    // someone else meanwhile), then removed.
    const aside = `${file}.${randomBytes(4).toString('hex')}`;
    try {
      await rename(file, aside);
    } catch {
      continue;
    }
    const moved = await readLock(aside);
    if (moved === held) {
      await unlink(aside).catch(() => {});
      continue;
    }
    // A live lock was moved: put it back (unless a new one is there already) and keep out of the way.
    await rename(aside, file).catch(() => {});
    return undefined;
  }
  return undefined;
}

/** The lock's content; undefined when there is none; false when it cannot be read as a small regular file. */
export async function readLock(file: string): Promise<string | false | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, constants.O_RDONLY | NOFOLLOW);
    const st = await fh.stat();
    if (!st.isFile() || st.size > 256) return false;
    return await fh.readFile('utf8');
  } catch (e) {
    return errnoCode(e) === 'ENOENT' ? undefined : false;
  } finally {
    await fh?.close();
  }
}

/** A holder on another host (a shared folder) cannot be checked: it counts as alive. */
function holderAlive(content: string): boolean {
  const [host, pidText, start] = content.trim().split(' ');
  if (host !== (hostname().replace(/\s/g, '_') || '-')) return true;
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (errnoCode(e) === 'ESRCH') return false;
  }
  const now = processStart(pid);
  return !start || !now || now === start;
}

export async function unlockPart(lock: Lock): Promise<void> {
  // Only our own: a lock taken over after ours was judged stale is not ours to remove.
  if ((await readLock(lock.file)) === lock.content) await unlink(lock.file).catch(() => {});
}
