/** Whether stdout and stderr are the same terminal (job output and the live view then share the screen). */
import { fstatSync } from 'node:fs';

export function sameTerminal(): boolean {
  if (!process.stdout.isTTY) return false;
  try {
    return fstatSync(1).rdev === fstatSync(2).rdev;
  } catch {
    return true;
  }
}
