import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import type { SerializedError } from '../kinds/types.js';
import type { WorkerExit, WorkerHandle } from './handle.js';
import { Mailbox, WORKER_ENTRY } from './handle.js';
import { INIT_FLAG } from './protocol.js';
import { ownBuffers } from './buffers.js';
import { RUN_ID_VAR } from '../proc/watchdog.js';

const ENTRY = fileURLToPath(WORKER_ENTRY);

export class ProcessWorker implements WorkerHandle {
  readonly pid: number;
  readonly threadId = 0;
  private readonly child: ChildProcess;
  private fatal: SerializedError | undefined;
  private readonly mailbox = new Mailbox();

  /**
   * `runToken`: for a worker started before the run set it in process.env (prestart.ts). `stdout`: where the
   * worker's own fd 1 goes (the program's stdout, or stderr).
   */
  constructor(init?: WorkerInit, runToken?: string, stdout: 'stdout' | 'stderr' = 'stderr') {
    // The initializer and its arguments come as the first message, cloned as task arguments are (advanced
    // serialization: Map, Date, BigInt, undefined, NaN, cycles), never as JSON in argv.
    this.child = fork(ENTRY, init ? [INIT_FLAG] : [], {
      serialization: 'advanced',
      // A worker's own stray output (not a job's: jobs' output is captured) goes to the CLI's stderr, never into
      // its ordered stdout; a library program's stdout, as a thread's would.
      stdio: ['ignore', stdout === 'stdout' ? 1 : 2, 2, 'ipc'],
      // No V8 flags: any flag makes Node reject the code cache of its built-in modules (+13 ms to start a
      // worker process here, measured with --max-semi-space-size).
      execArgv: [],
      ...(runToken === undefined ? {} : { env: { ...process.env, [RUN_ID_VAR]: runToken } }),
    });
    this.pid = this.child.pid ?? -1;
    if (init) this.send({ type: 'init', init });
    this.child.on('message', (m: FromWorker) => {
      if (m.type === 'fatal') this.fatal = m.error;
      if (m.type === 'done' && m.outcome.value !== undefined) m.outcome.value = ownBuffers(m.outcome.value);
      this.mailbox.message(m);
    });
    this.child.once('exit', (code, signal) => {
      const exit: WorkerExit = { code, signal };
      if (this.fatal) exit.error = this.fatal;
      this.mailbox.exit(exit);
    });
    // A fork that cannot start reports 'error' and then 'exit'; nothing to add here.
    this.child.on('error', () => {});
  }

  send(msg: ToWorker): void {
    if (this.child.connected) this.child.send(msg);
  }
  onMessage(fn: (msg: FromWorker) => void): void {
    this.mailbox.onMessage(fn);
  }
  onExit(fn: (exit: WorkerExit) => void): void {
    this.mailbox.onExit(fn);
  }
  close(): void {
    if (this.child.connected) this.child.disconnect();
    // A worker that does not leave within a second of being asked is stuck in user code: end it.
    setTimeout(() => this.kill(), 1000).unref();
  }
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
  ref(): void {
    this.child.ref();
    (this.child.channel as { ref?: () => void } | undefined)?.ref?.();
  }
  unref(): void {
    this.child.unref();
    (this.child.channel as { unref?: () => void } | undefined)?.unref?.();
  }
}
