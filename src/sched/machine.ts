/**
 * What the machine has, for --memfree and --load: MemAvailable from /proc/meminfo and the 1-minute load
 * average from /proc/loadavg. Read synchronously (a few microseconds each) whenever a job is about to start.
 *
 * Test-only: POOLRUN_TEST_MACHINE_DIR names a folder holding files called `meminfo` and `loadavg` in the
 * /proc formats, read instead of /proc's (so a test feeds readings by writing real files). Not for users.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const MACHINE_DIR_VAR = 'POOLRUN_TEST_MACHINE_DIR';

export interface MachineReading {
  /** Bytes the kernel estimates are available for new programs; undefined when it cannot be read. */
  memAvailable: number | undefined;
  /** The 1-minute load average; undefined when it cannot be read. */
  load1: number | undefined;
}

function source(): string {
  return process.env[MACHINE_DIR_VAR] || '/proc';
}

export function readMachine(what: { mem: boolean; load: boolean }): MachineReading {
  const dir = source();
  return {
    memAvailable: what.mem ? memAvailable(readText(join(dir, 'meminfo'))) : undefined,
    load1: what.load ? loadAverage(readText(join(dir, 'loadavg'))) : undefined,
  };
}

/** A /proc file's text; undefined where it cannot be read (no such file, not Linux). */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** `MemAvailable:  123456 kB` → bytes (older kernels without it: MemFree + Buffers + Cached). */
export function memAvailable(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const field = (name: string): number | undefined => {
    const m = new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const avail = field('MemAvailable');
  if (avail !== undefined) return avail;
  const free = field('MemFree');
  if (free === undefined) return undefined;
  return free + (field('Buffers') ?? 0) + (field('Cached') ?? 0);
}

/** `0.52 0.40 0.31 1/234 5678` → 0.52. */
export function loadAverage(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s/.exec(text);
  return m ? Number(m[1]) : undefined;
}
