/**
 * Finishing a download: the response body into the part, then the checks (length, sha256, the part and its lock
 * still ours), then the rename into place (synced first, and the folder after, with `fsync`).
 */
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import type { DownloadSpec } from '../types.js';
import type { Moved } from '../outcome.js';
import { JobError, fsError } from '../job-error.js';
import { applyKept, keptOf, placeFile, syncDir } from '../place.js';
import type { Kept } from '../../util/atomic.js';
import { umask } from '../../util/umask.js';
import { networkError, showUrl } from './http-client.js';
import { discardPart, type Paths } from './part.js';
import { readLock } from './part-lock.js';

const NAME = 'DownloadError';

export interface Finish {
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
export async function finish(b: Finish): Promise<void> {
  const { spec, paths, res, fh, hash, signal, moved } = b;
  const body = { written: 0 };
  let size = -1;
  try {
    if (b.readBody) await writeBody(res, fh, hash, moved, body, paths.part);
    size = (await fh.stat()).size;
    const whole = size === b.start + body.written && (b.expected === undefined || size === b.expected);
    // Replacing a file: the new one keeps its mode (and, for root, its owner), set on the open part; a new
    // file gets what any program's new file gets. Only a whole part: one kept to be resumed stays 0600.
    if (whole) {
      const kept = spec.overwrite ? await keptOf(paths.to) : undefined;
      await keep(fh, kept ?? { mode: 0o666 & ~umask() }, paths.part);
      if (spec.fsync === true) await fh.datasync();
    }
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

async function keep(fh: FileHandle, kept: Kept, part: string): Promise<void> {
  try {
    await applyKept(fh, kept);
  } catch (e) {
    throw fsError(NAME, e, 'set the mode of', part);
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
