import { readFileSync, readdirSync } from 'node:fs';

/** Live processes whose parent is `pid`: the worker processes of a poolrun in process mode. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** The worker processes of a poolrun in process mode: its children but the watchdog (a /bin/sh, see watchdog.ts). */
export function workerPids(pid: number): number[] {
  return childPids(pid).filter((p) => {
    try {
      return !readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('poolrun-watchdog');
    } catch {
      return false; // gone meanwhile
    }
  });
}
