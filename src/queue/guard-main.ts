/**
 * The guard process (see guard.ts). Reads `+PGID` lines and a final `bye` from stdin. Groups that no longer
 * exist are forgotten every half second, so a number the kernel reuses later is not killed by mistake.
 * End of input without `bye` means the worker died: every known group gets SIGTERM, then SIGKILL.
 */
import { signalGroup as signalOrThrow, groupAlive } from '../proc/groups.js';

const groups = new Set<number>();
let pending = '';
let dismissed = false;
const GRACE_MS = 2000;

function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    return signalOrThrow(pgid, sig);
  } catch {
    return false; // not ours to signal (EPERM): nothing to do
  }
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});

process.stdin.on('data', (chunk: Buffer) => {
  pending += chunk.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    if (line === 'bye') dismissed = true;
    else if (/^\+\d+$/.test(line)) groups.add(Number(line.slice(1)));
  }
});

const prune = setInterval(() => {
  for (const g of groups) if (!groupAlive(g)) groups.delete(g);
}, 500);

process.stdin.on('close', () => {
  clearInterval(prune);
  if (dismissed) process.exit(0);
  for (const g of groups) if (!signalGroup(g, 'SIGTERM')) groups.delete(g);
  if (groups.size === 0) process.exit(0);
  setTimeout(() => {
    for (const g of groups) signalGroup(g, 'SIGKILL');
    process.exit(0);
  }, GRACE_MS);
});
process.stdin.resume();
