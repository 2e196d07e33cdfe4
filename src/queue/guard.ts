/**
 * The orphan guard of a queue worker. Shell jobs run in their own process groups, so a worker killed with
 * SIGKILL (or by the OOM killer) would leave them running while BullMQ hands the same jobs to another worker.
 * A small detached helper process learns every job's group over a pipe; when the pipe closes without a
 * goodbye, the worker is dead, and the helper kills the groups it still knows (TERM, then KILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ProcessGroups } from '../proc/groups.js';

const GUARD_MAIN = fileURLToPath(new URL('./guard-main.js', import.meta.url));

/** A ProcessGroups registry that also tells the guard about each new group. */
export class GuardedGroups extends ProcessGroups {
  readonly #child: ChildProcess;

  constructor() {
    super();
    this.#child = spawn(process.execPath, [GUARD_MAIN], {
      // Its own session: a Ctrl-C or hang-up meant for the worker must not take the guard down with it.
      detached: true,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    this.#child.on('error', () => {}); // no guard (cannot spawn): the worker still works, unguarded
    this.#child.stdin?.on('error', () => {});
    this.#child.unref();
  }

  get guardPid(): number | undefined {
    return this.#child.pid;
  }

  override add(pgid: number): void {
    super.add(pgid);
    this.#child.stdin?.write(`+${pgid}\n`);
  }

  /** The worker is leaving on purpose, its jobs done: the guard exits without killing anything. */
  async dismiss(): Promise<void> {
    const stdin = this.#child.stdin;
    if (!stdin || stdin.destroyed) return;
    await new Promise<void>((resolve) => stdin.end('bye\n', () => resolve()));
  }
}
