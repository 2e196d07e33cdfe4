/**
 * One folder per poolrun process for everything it keeps on disk for a while (spilled job output, the records
 * spooled for --json and --junit, tagged spills, --pipe blocks): `$TMPDIR/poolrun-PID-RANDOM`, mode 0700, made on
 * first use and removed when the process exits. Its name is fixed when the process starts, before it exists, so
 * the watchdog (proc/watchdog.ts) is given it when it starts and removes it should poolrun be SIGKILLed: a run
 * killed by the OOM killer, say, would otherwise leave everything its jobs printed past the capture limit in /tmp.
 */
import { lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(
  tmpdir(),
  `poolrun-${process.pid}-${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex')}`,
);
let made = false;

/** The folder's name, whether or not it has been made yet. */
export function tempRootName(): string {
  return ROOT;
}

/** The folder, made now if it was not (0700: job output is nobody else's to read). */
export function tempRoot(): string {
  if (made) return ROOT;
  try {
    mkdirSync(ROOT, { mode: 0o700 });
  } catch (e) {
    // Someone made it first (its name holds 48 random bits): use it only if it is a folder of ours, not a link.
    const st = lstatSync(ROOT);
    const mine = st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !mine) throw e;
  }
  made = true;
  process.once('exit', () => rmSync(ROOT, { recursive: true, force: true }));
  return ROOT;
}

/** A new folder inside it, `prefix` then random characters (mkdtemp). */
export function tempFolder(prefix: string): string {
  return mkdtempSync(join(tempRoot(), prefix));
}
