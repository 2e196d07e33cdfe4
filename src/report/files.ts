/** The files a run writes at its end (--json, --junit): checked before anything runs, so a typo costs nothing. */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PoolrunError, UsageError } from '../errors.js';

/** Writing a result file failed at the end of a run (disk full, folder removed meanwhile). */
export class OutputFileError extends PoolrunError {}

export function checkWritable(option: string, file: string): void {
  const path = resolve(file);
  const dir = dirname(path);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`${option}: cannot write ${file}: folder ${dir} does not exist`);
  }
  if (!isDir) throw new UsageError(`${option}: cannot write ${file}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${option}: cannot write ${file}: folder ${dir} is not writable`);
  }
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`${option}: ${file} is a folder`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
}
