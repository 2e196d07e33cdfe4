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
import { rm, type FileHandle } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { DownloadSpec } from '../types.js';
import type { JobContext } from '../context.js';
import type { Outcome } from '../outcome.js';
import { runMover, type Moved } from '../outcome.js';
import { JobError, fsError } from '../job-error.js';
import { destinationExists, inFolderOf, lstatOrUndefined } from '../place.js';
import { getFollowingRedirects, showUrl } from './http-client.js';
import { finish } from './finish.js';
import {
  createPart,
  discardPart,
  hashOf,
  openResumed,
  partPaths,
  resumePoint,
  saveMeta,
  type Paths,
  type Resume,
} from './part.js';
import { lockPart, unlockPart } from './part-lock.js';
import { tempBeside } from '../../util/atomic.js';

export { partPaths };

const NAME = 'DownloadError';
const USER_AGENT = 'poolrun';

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
  const lock = await inFolderOf(NAME, to, () => lockPart(keyed.lock), spec.fsync === true);
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
      fh = await inFolderOf(NAME, paths.to, () => createPart(paths), spec.fsync === true);
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

function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}
