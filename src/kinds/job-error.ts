/**
 * Errors of copy and download jobs: messages a person can act on ("cannot create /dst/a.txt: permission denied
 * (EACCES)"), not Node's "EACCES: permission denied, open '/dst/.a.txt.3f2a.poolrun-tmp'" with a stack.
 */
import type { SerializedError } from './types.js';

export class JobError extends Error {
  readonly code: string | undefined;
  constructor(name: string, message: string, code?: string) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EXDEV: 'not on the same file system',
  ENOTEMPTY: 'folder not empty',
};

export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** "cannot <action> <path>: <reason> (<CODE>)", keeping the code for scripts that read the results. */
export function fsError(name: string, e: unknown, action: string, path: string): JobError {
  if (e instanceof JobError) return e;
  const code = errnoCode(e);
  const raw = e instanceof Error ? e.message : String(e);
  // Node's messages look like "EACCES: permission denied, open '/x'": keep the middle part as a fallback.
  const reason = (code && REASONS[code]) ?? /^[A-Z0-9_]+: ([^,]+)/.exec(raw)?.[1] ?? raw;
  return new JobError(name, `cannot ${action} ${path}: ${reason}${code ? ` (${code})` : ''}`, code);
}

/** No stack: the message is the whole story, and a stack would only point inside poolrun. */
export function toSerialized(name: string, e: unknown): SerializedError {
  if (e instanceof JobError) {
    const out: SerializedError = { name: e.name, message: e.message };
    if (e.code) out.code = e.code;
    return out;
  }
  const code = errnoCode(e);
  const out: SerializedError = { name, message: e instanceof Error ? e.message : String(e) };
  if (code) out.code = code;
  return out;
}
