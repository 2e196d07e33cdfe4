/**
 * The process's umask, read without changing it. Node's `process.umask()` with no argument sets it to 0 and back
 * (DEP0139): a file another thread creates in between gets mode 0666 or 0777. Linux says it in /proc/self/status
 * (since 4.7); elsewhere that read is the only way. Read once: poolrun never changes it.
 */
import { readFileSync } from 'node:fs';

let cached: number | undefined;

export function umask(): number {
  if (cached !== undefined) return cached;
  try {
    const line = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (line) return (cached = parseInt(line[1]!, 8));
  } catch {
    /* no /proc */
  }
  return (cached = process.umask());
}
