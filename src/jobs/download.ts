/**
 * `download` jobs: HTTP(S) GET into `<to>.part` beside the destination, checked (Content-Length, sha256),
 * synced and renamed into place, so `to` is absent or complete. A later attempt (a retry, or the next run)
 * resumes an interrupted `.part` with `Range` + `If-Range`: 206 appends, 200 starts over, 416 means the part
 * may already be whole. What resume needs to know (the URL and the validator) sits in `<to>.part.meta`.
 */
import { constants, createReadStream } from 'node:fs';
import { open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { dirname } from 'node:path';
import type { DownloadSpec } from './types.js';
import type { JobContext } from './context.js';
import type { Outcome } from '../pool/protocol.js';
import { runMover, type Moved } from './outcome.js';
import { JobError, fsError } from './job-error.js';
import { destinationExists, inFolderOf, lstatOrUndefined, placeFile, syncDir } from './place.js';
import { getFollowingRedirects, networkError, showUrl } from './http-client.js';

const NAME = 'DownloadError';
const USER_AGENT = 'poolrun';
/** Smaller downloads restart when interrupted: keeping resume metadata would cost more than it saves. */
const RESUME_MIN_BYTES = 64 * 1024;

interface PartMeta {
  url: string;
  etag?: string;
  lastModified?: string;
}

interface Paths {
  to: string;
  part: string;
  meta: string;
}

/** Stopped by the pool (timeout, halt), a download leaves its .part for the next attempt. */
export function runDownload(spec: DownloadSpec, ctx: JobContext): Promise<Outcome> {
  return runMover(NAME, ctx.signal, (moved) => download(spec, ctx.signal, moved));
}

async function download(spec: DownloadSpec, signal: AbortSignal, moved: Moved): Promise<void> {
  const paths: Paths = { to: spec.to, part: `${spec.to}.part`, meta: `${spec.to}.part.meta` };
  try {
    if (!spec.overwrite && (await lstatOrUndefined(paths.to))) throw destinationExists(NAME, paths.to);
  } catch (e) {
    throw fsError(NAME, e, 'reach', paths.to);
  }
  const resume = await resumePoint(paths, spec.url);
  if (await transfer(spec, paths, resume, signal, moved)) return;
  // A resume the server cannot continue (a 416 for another length, a Content-Range elsewhere): start over.
  await transfer(spec, paths, { have: 0 }, signal, moved);
}

interface Resume {
  have: number;
  meta?: PartMeta;
}

/** How much of an earlier attempt can be kept: a `.part` of this URL whose validator is known. */
async function resumePoint(paths: Paths, url: string): Promise<Resume> {
  const st = await lstatOrUndefined(paths.part).catch(() => undefined);
  if (!st?.isFile() || st.size === 0) return { have: 0 };
  let meta: PartMeta | undefined;
  try {
    meta = JSON.parse(await readFile(paths.meta, 'utf8')) as PartMeta;
  } catch {
    return { have: 0 };
  }
  if (meta.url !== url || (!meta.etag && !meta.lastModified)) return { have: 0 };
  return { have: st.size, meta };
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
  const headers: OutgoingHttpHeaders = { 'user-agent': USER_AGENT, ...spec.headers };
  const { have, meta } = resume;
  if (have > 0 && meta) {
    headers.range = `bytes=${have}-`;
    headers['if-range'] = meta.etag ?? meta.lastModified;
  }
  const { res, url: from } = await getFollowingRedirects(url, headers, signal);
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
      if (spec.sha256) hash = await hashOf(paths.part, have);
      fh = await openPart(paths.part, constants.O_APPEND);
      wroteMeta = true;
    } else if (status === 416 && have > 0) {
      res.resume();
      // "bytes */N": the part already holds all N bytes (the last attempt ended just before its rename).
      const total = /^bytes \*\/(\d+)$/.exec(res.headers['content-range'] ?? '')?.[1];
      if (total === undefined || Number(total) !== have) return false;
      if (spec.sha256) hash = await hashOf(paths.part, have);
      fh = await openPart(paths.part, constants.O_APPEND);
      expected = have;
      readBody = false;
      wroteMeta = true;
    } else if (status >= 200 && status < 300 && status !== 206) {
      // A 200 to a Range request: the server ignored it, or the file changed (If-Range): start over.
      const length = res.headers['content-length'];
      expected = length === undefined ? undefined : Number(length);
      start = 0;
      fh = await inFolderOf(NAME, paths.to, () => openPart(paths.part, constants.O_TRUNC));
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
  try {
    if (b.readBody) await writeBody(res, fh, hash, moved, body, paths.part);
    await fh.datasync();
  } catch (e) {
    if (signal.aborted || e instanceof JobError) throw e;
    throw lostConnection(b.from, b.start + body.written, b.expected, b.resumable, paths.part, e);
  } finally {
    await fh.close();
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
  await placeFile(NAME, paths.part, paths.to, spec.overwrite);
  if (b.resumable) await rm(paths.meta, { force: true });
  await syncDir(dirname(paths.to));
}

async function openPart(part: string, flag: number): Promise<FileHandle> {
  try {
    // NOFOLLOW: a symbolic link planted at the .part name is not written through.
    return await open(part, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | flag, 0o666);
  } catch (e) {
    throw fsError(NAME, e, 'write', part);
  }
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
  const etag = res.headers.etag;
  const lastModified = res.headers['last-modified'];
  // A weak ETag cannot be used in If-Range (RFC 9110 13.1.5).
  const meta: PartMeta = { url };
  if (etag && !etag.startsWith('W/')) meta.etag = etag;
  if (lastModified) meta.lastModified = lastModified;
  const worth = (meta.etag || meta.lastModified) && (expected === undefined || expected >= RESUME_MIN_BYTES);
  if (!worth) {
    await rm(paths.meta, { force: true });
    return false;
  }
  try {
    await writeFile(paths.meta, JSON.stringify(meta));
  } catch (e) {
    throw fsError(NAME, e, 'write', paths.meta);
  }
  return true;
}

async function discardPart(paths: Paths): Promise<void> {
  await rm(paths.part, { force: true });
  await rm(paths.meta, { force: true });
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

/** sha256 of the first `bytes` of a file: the resumed part's prefix, so the checksum covers the whole file. */
function hashOf(file: string, bytes: number): Promise<Hash> {
  return new Promise<Hash>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file, { start: 0, end: bytes - 1 })
      .on('data', (c) => hash.update(c))
      .on('error', (e) => reject(fsError(NAME, e, 'read', file)))
      .on('end', () => resolve(hash));
  });
}

function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}
