/**
 * `download` jobs: HTTP(S) GET into a part file beside the destination, checked (Content-Length, sha256),
 * and renamed into place (synced first, and the folder after, with `fsync`), so `to` is absent or complete. A later attempt (a retry, or the next run)
 * resumes an interrupted part with `Range` + `If-Range`: 206 appends, 200 starts over, 416 means the part
 * may already be whole.
 *
 * The part is keyed: `<to>.<key>.part`, the key a hash of the URL and the destination, so two downloads of
 * different URLs to one `to` never share one. It is held by a lock file (`.part.lock`, created O_EXCL, holding the
 * holder's pid and start time, so a lock left by a killed process is taken over): a second download of the same URL
 * to the same `to` while the first runs (another job, another run) writes its own unique temp file instead, and
 * cannot resume. What resume needs (a salted hash of the URL, never the URL, and the validator) sits in
 * `.part.meta`, 0600. No part, meta or lock file is ever opened through a symbolic link.
 */
import { constants, readFileSync } from 'node:fs';
import { open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { DownloadSpec } from '../types.js';
import type { JobContext } from '../context.js';
import type { Outcome } from '../outcome.js';
import { runMover, type Moved } from '../outcome.js';
import { JobError, errnoCode, fsError } from '../job-error.js';
import { destinationExists, inFolderOf, lstatOrUndefined, placeFile, syncDir } from '../place.js';
import { getFollowingRedirects, networkError, showUrl } from './http-client.js';
import { nameBeside, tempBeside } from '../../util/atomic.js';
import { redactUrl } from '../../util/redact.js';

const NAME = 'DownloadError';
const USER_AGENT = 'poolrun';
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

interface Paths {
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

/** Stopped by the pool (timeout, halt), a download leaves its .part for the next attempt. */
export function runDownload(spec: DownloadSpec, ctx: JobContext): Promise<Outcome> {
  return runMover(NAME, ctx.signal, (moved) => download(spec, ctx.signal, moved));
}

async function download(spec: DownloadSpec, signal: AbortSignal, moved: Moved): Promise<void> {
  const to = spec.to;
  try {
    if (!spec.overwrite && (await lstatOrUndefined(to))) throw destinationExists(NAME, to);
  } catch (e) {
    throw fsError(NAME, e, 'reach', to);
  }
  const keyed = partPaths(spec.url, to);
  const lock = await inFolderOf(NAME, to, () => lockPart(keyed.lock));
  if (!lock) {
    // Another download of this URL to this file is under way: a part of our own, never a shared one.
    const paths: Paths = { to, part: tempBeside(to), meta: undefined };
    await transfer(spec, paths, { have: 0 }, signal, moved);
    return;
  }
  try {
    const paths: Paths = { to, part: keyed.part, meta: keyed.meta, lock };
    const resume = await resumePoint(paths, spec.url);
    if (await transfer(spec, paths, resume, signal, moved)) return;
    // A resume the server cannot continue (a 416 for another length, a Content-Range elsewhere): start over.
    await transfer(spec, paths, { have: 0 }, signal, moved);
  } finally {
    await unlockPart(lock);
  }
}

interface Resume {
  have: number;
  meta?: PartMeta;
}

/** How much of an earlier attempt can be kept: a `.part` of this URL whose validator is known. */
async function resumePoint(paths: Paths, url: string): Promise<Resume> {
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

/** One request and its body into the `.part`. false: the part cannot be continued (only when resuming). */
async function transfer(
  spec: DownloadSpec,
  paths: Paths,
  resume: Resume,
  signal: AbortSignal,
  moved: Moved,
): Promise<boolean> {
  const url = new URL(spec.url);
  const headers: OutgoingHttpHeaders = { 'user-agent': USER_AGENT };
  const { have, meta } = resume;
  if (have > 0 && meta) {
    headers.range = `bytes=${have}-`;
    headers['if-range'] = meta.etag ?? meta.lastModified;
  }
  const { res, url: from } = await getFollowingRedirects(url, headers, spec.headers, signal);
  const status = res.statusCode ?? 0;

  let fh: FileHandle | undefined;
  let expected: number | undefined;
  let hash: Hash | undefined;
  let readBody = true;
  let wroteMeta = false;
  let start = have;
  try {
    if (status === 206 && have > 0) {
      const range = parseContentRange(res.headers['content-range']);
      if (range?.start !== have) {
        res.destroy();
        return false;
      }
      expected = range.total ?? range.end + 1;
      fh = await openResumed(paths.part, have);
      if (!fh) {
        res.destroy();
        return false;
      }
      if (spec.sha256) hash = await hashOf(fh, paths.part, have);
      wroteMeta = true;
    } else if (status === 416 && have > 0) {
      res.resume();
      // "bytes */N": the part already holds all N bytes (the last attempt ended just before its rename).
      const total = /^bytes \*\/(\d+)$/.exec(res.headers['content-range'] ?? '')?.[1];
      if (total === undefined || Number(total) !== have) return false;
      fh = await openResumed(paths.part, have);
      if (!fh) return false;
      if (spec.sha256) hash = await hashOf(fh, paths.part, have);
      expected = have;
      readBody = false;
      wroteMeta = true;
    } else if (status >= 200 && status < 300 && status !== 206) {
      // A 200 to a Range request: the server ignored it, or the file changed (If-Range): start over.
      const length = res.headers['content-length'];
      expected = length !== undefined && /^\d{1,15}$/.test(length) ? Number(length) : undefined;
      start = 0;
      fh = await inFolderOf(NAME, paths.to, () => createPart(paths));
      if (spec.sha256) hash = createHash('sha256');
      wroteMeta = await saveMeta(paths, spec.url, res, expected);
    } else {
      res.resume();
      if (status === 206)
        throw new JobError(
          NAME,
          `partial content (HTTP 206) from ${showUrl(from)} though the whole file was asked for`,
        );
      // A definite "no" makes an old .part worthless; a server error or a rate limit may pass: keep it.
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) await discardPart(paths);
      throw new JobError(
        NAME,
        `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''} from ${showUrl(from)}`,
        `HTTP_${status}`,
      );
    }
  } catch (e) {
    res.destroy();
    await fh?.close();
    throw e;
  }

  try {
    await finish({
      spec,
      paths,
      res,
      fh,
      hash,
      signal,
      moved,
      from,
      start,
      expected,
      readBody,
      resumable: wroteMeta,
    });
  } catch (e) {
    // A part that cannot be resumed is only clutter.
    if (!wroteMeta) await rm(paths.part, { force: true });
    throw e;
  }
  return true;
}

interface Finish {
  spec: DownloadSpec;
  paths: Paths;
  res: IncomingMessage;
  fh: FileHandle;
  hash: Hash | undefined;
  signal: AbortSignal;
  moved: Moved;
  from: URL;
  /** Bytes already in the part before this response. */
  start: number;
  expected: number | undefined;
  readBody: boolean;
  resumable: boolean;
}

/** The body into the part, then the checks, then the rename into place. */
async function finish(b: Finish): Promise<void> {
  const { spec, paths, res, fh, hash, signal, moved } = b;
  const body = { written: 0 };
  let size = -1;
  try {
    if (b.readBody) await writeBody(res, fh, hash, moved, body, paths.part);
    if (spec.fsync === true) await fh.datasync();
    size = (await fh.stat()).size;
  } catch (e) {
    if (signal.aborted || e instanceof JobError) throw e;
    throw lostConnection(b.from, b.start + body.written, b.expected, b.resumable, paths.part, e);
  } finally {
    await fh.close();
  }
  if (size !== b.start + body.written) {
    // Someone else wrote to this part meanwhile (a process that does not honour the lock): never placed.
    await discardPart(paths);
    throw new JobError(
      NAME,
      `the part ${paths.part} was changed by another process while this download wrote it (${size} bytes, ${b.start + body.written} written); it is removed`,
      'EPARTCHANGED',
    );
  }
  if (b.expected !== undefined && b.start + body.written !== b.expected)
    throw lostConnection(b.from, b.start + body.written, b.expected, b.resumable, paths.part);

  if (hash && spec.sha256) {
    const got = hash.digest('hex');
    if (got !== spec.sha256) {
      await discardPart(paths);
      throw new JobError(
        NAME,
        `checksum mismatch for ${showUrl(new URL(spec.url))}: expected sha256 ${spec.sha256}, got ${got}`,
        'ECHECKSUM',
      );
    }
  }
  signal.throwIfAborted();
  if (paths.lock && (await readLock(paths.lock.file)) !== paths.lock.content)
    throw new JobError(
      NAME,
      `the lock ${paths.lock.file} was taken over by another process while this download ran: nothing was placed`,
      'ELOCKLOST',
    );
  try {
    await placeFile(NAME, paths.part, paths.to, spec.overwrite);
  } catch (e) {
    // Something appeared at `to` meanwhile (another download of it, another run): the whole part is not kept.
    if (e instanceof JobError && e.code === 'EEXIST') await discardPart(paths);
    throw e;
  }
  if (b.resumable && paths.meta) await rm(paths.meta, { force: true });
  if (spec.fsync === true) await syncDir(dirname(paths.to));
}

/**
 * A new, empty part: whatever was at the keyed name (an old part, a planted symbolic link or hard link) is
 * removed, never written through, and the file is created O_EXCL: ours alone. A private part's name is new.
 */
async function createPart(paths: Paths): Promise<FileHandle> {
  try {
    if (paths.meta) await rm(paths.part, { force: true });
    return await open(
      paths.part,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
      0o666,
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
async function openResumed(part: string, have: number): Promise<FileHandle | undefined> {
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
  return fh;
}

async function writeBody(
  res: IncomingMessage,
  fh: FileHandle,
  hash: Hash | undefined,
  moved: Moved,
  body: { written: number },
  part: string,
): Promise<void> {
  for await (const chunk of res as AsyncIterable<Buffer>) {
    hash?.update(chunk);
    for (let off = 0; off < chunk.length;) {
      let n: number;
      try {
        n = (await fh.write(chunk, off)).bytesWritten;
      } catch (e) {
        res.destroy();
        throw fsError(NAME, e, 'write', part);
      }
      off += n;
      body.written += n;
      moved.bytes += n;
    }
  }
}

/** Resume metadata, written before the first byte so that even a killed worker leaves a resumable part. */
async function saveMeta(
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

async function discardPart(paths: Paths): Promise<void> {
  await rm(paths.part, { force: true });
  if (paths.meta) await rm(paths.meta, { force: true });
}

function lostConnection(
  from: URL,
  got: number,
  expected: number | undefined,
  resumable: boolean,
  part: string,
  cause?: unknown,
): JobError {
  const of = expected === undefined ? '' : ` of ${expected}`;
  const next = resumable ? `; the next attempt resumes from ${part}` : '';
  const why = cause === undefined ? 'the connection closed' : networkError(cause, from).message;
  return new JobError(
    NAME,
    `incomplete download from ${showUrl(from)}: ${why} after ${got}${of} bytes${next}`,
  );
}

/** sha256 of the first `bytes` of the open part: its prefix, so the checksum covers the whole file. */
async function hashOf(fh: FileHandle, file: string, bytes: number): Promise<Hash> {
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

interface Lock {
  file: string;
  content: string;
}

/**
 * Takes the part's lock: a file created O_EXCL holding `host pid start token`. A lock whose holder is gone (its pid
 * is dead, or is another process now) is taken over; one that is held, unreadable or not a regular file means
 * the part is busy: undefined.
 */
async function lockPart(file: string): Promise<Lock | undefined> {
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
async function readLock(file: string): Promise<string | false | undefined> {
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

async function unlockPart(lock: Lock): Promise<void> {
  // Only our own: a lock taken over after ours was judged stale is not ours to remove.
  if ((await readLock(lock.file)) === lock.content) await unlink(lock.file).catch(() => {});
}

function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}
