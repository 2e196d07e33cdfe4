/**
 * The part file and what resume needs: the keyed `.part` beside the destination, its `.part.meta` (a salted hash of
 * the URL and the validator, 0600), the rules for when an earlier attempt's part may be continued, and how a part
 * is created, reopened, hashed and discarded. None of these files is ever opened through a symbolic link.
 */
import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { errnoCode, fsError } from '../job-error.js';
import { lstatOrUndefined } from '../place.js';
import type { Lock } from './part-lock.js';
import { nameBeside } from '../../util/atomic.js';
import { redactUrl } from '../../util/redact.js';

const NAME = 'DownloadError';
/** Smaller downloads restart when interrupted: keeping resume metadata would cost more than it saves. */
const RESUME_MIN_BYTES = 64 * 1024;
/** A .part.meta is a few hundred bytes; anything much larger was not written by poolrun. */
const META_MAX_BYTES = 16 * 1024;
const NOFOLLOW = constants.O_NOFOLLOW;

interface PartMeta {
  /** sha256 of `salt` and the URL: matches the same URL again, shows nothing of it (no user, password, query). */
  salt: string;
  urlHash: string;
  etag?: string;
  lastModified?: string;
}

export interface Paths {
  to: string;
  part: string;
  /** Undefined for a private part (another download holds the keyed one): no resume, no metadata. */
  meta: string | undefined;
  /** The keyed part's lock, ours. */
  lock?: Lock;
}

/**
 * The keyed part of one URL and destination, its metadata and its lock, all within NAME_MAX. The key hashes the
 * URL as the shared redactor shows it (no user, password or query value: a name in a folder others may list must
 * not let them test guesses of a secret); URLs that differ only there are told apart by the meta's hash of the
 * whole URL, and the lock keeps two of them from writing one part at once.
 */
export function partPaths(url: string, to: string): { part: string; meta: string; lock: string } {
  const key = createHash('sha256')
    .update(`poolrun-part\0${redactUrl(url)}\0${to}`)
    .digest('hex')
    .slice(0, 16);
  // Room for `.meta` / `.lock` after the suffix too.
  const part = nameBeside(to, '', `.${key}.part`, 5);
  return { part, meta: `${part}.meta`, lock: `${part}.lock` };
}

export interface Resume {
  have: number;
  meta?: PartMeta;
}

/** How much of an earlier attempt can be kept: a `.part` of this URL whose validator is known. */
export async function resumePoint(paths: Paths, url: string): Promise<Resume> {
  if (!paths.meta) return { have: 0 };
  const st = await lstatOrUndefined(paths.part).catch(() => undefined);
  if (!st?.isFile() || st.size === 0) return { have: 0 };
  const meta = await readMeta(paths.meta);
  if (!meta || typeof meta.salt !== 'string' || meta.urlHash !== urlHash(meta.salt, url)) return { have: 0 };
  if (!meta.etag && !meta.lastModified) return { have: 0 };
  return { have: st.size, meta };
}

function urlHash(salt: string, url: string): string {
  return createHash('sha256').update(`${salt}\0${url}`).digest('hex');
}

async function readMeta(file: string): Promise<PartMeta | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, constants.O_RDONLY | NOFOLLOW);
    const st = await fh.stat();
    if (!st.isFile() || st.size > META_MAX_BYTES) return undefined;
    const meta = JSON.parse(await fh.readFile('utf8')) as unknown;
    return meta && typeof meta === 'object' ? (meta as PartMeta) : undefined;
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

/**
 * A new, empty part: whatever was at the keyed name (an old part, a planted symbolic link or hard link) is
 * removed, never written through, and the file is created O_EXCL: ours alone. A private part's name is new.
 * Mode 0600 while it is written: a download that replaces a 0600 file must not be readable by others on its way
 * (a reader that opens it then keeps reading); finish() gives it its mode before it is placed.
 */
export async function createPart(paths: Paths): Promise<FileHandle> {
  try {
    if (paths.meta) await rm(paths.part, { force: true });
    return await open(
      paths.part,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
      0o600,
    );
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw e; // the folder is missing: inFolderOf makes it
    throw fsError(NAME, e, 'write', paths.part);
  }
}

/**
 * The part an earlier attempt left, to append to: a regular file of `have` bytes with one link, opened without
 * following a symbolic link. undefined when it is anything else (then the download starts over).
 */
export async function openResumed(part: string, have: number): Promise<FileHandle | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(part, constants.O_RDWR | constants.O_APPEND | NOFOLLOW);
  } catch {
    return undefined;
  }
  const st = await fh.stat().catch(() => undefined);
  if (!st?.isFile() || st.nlink !== 1 || st.size !== have) {
    await fh.close();
    return undefined;
  }
  // Private while it grows, as a new part is (one an older poolrun left may be 0644).
  if ((st.mode & 0o077) !== 0) await fh.chmod(0o600).catch(() => {});
  return fh;
}

/** Resume metadata, written before the first byte so that even a killed worker leaves a resumable part. */
export async function saveMeta(
  paths: Paths,
  url: string,
  res: IncomingMessage,
  expected: number | undefined,
): Promise<boolean> {
  if (!paths.meta) return false;
  const etag = res.headers.etag;
  const lastModified = res.headers['last-modified'];
  // A weak ETag cannot be used in If-Range (RFC 9110 13.1.5).
  const salt = randomBytes(16).toString('hex');
  const meta: PartMeta = { salt, urlHash: urlHash(salt, url) };
  if (etag && !etag.startsWith('W/')) meta.etag = etag;
  if (lastModified) meta.lastModified = lastModified;
  const worth = (meta.etag || meta.lastModified) && (expected === undefined || expected >= RESUME_MIN_BYTES);
  if (!worth) {
    await rm(paths.meta, { force: true });
    return false;
  }
  // Replaced, never written through: removed (a planted symbolic link goes, its target stays), then created
  // O_EXCL, 0600 (it says which server answered with which validator: nobody else's business).
  let fh: FileHandle | undefined;
  try {
    await rm(paths.meta, { force: true });
    fh = await open(paths.meta, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
    await fh.writeFile(JSON.stringify(meta));
  } catch (e) {
    throw fsError(NAME, e, 'write', paths.meta);
  } finally {
    await fh?.close();
  }
  return true;
}

export async function discardPart(paths: Paths): Promise<void> {
  await rm(paths.part, { force: true });
  if (paths.meta) await rm(paths.meta, { force: true });
}

/** sha256 of the first `bytes` of the open part: its prefix, so the checksum covers the whole file. */
export async function hashOf(fh: FileHandle, file: string, bytes: number): Promise<Hash> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  try {
    for (let pos = 0; pos < bytes;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
      if (bytesRead === 0) throw new Error(`the part ended after ${pos} of ${bytes} bytes`);
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } catch (e) {
    throw fsError(NAME, e, 'read', file); // the caller closes fh
  }
  return hash;
}
