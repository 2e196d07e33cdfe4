/**
 * The code that runs inside every worker, thread or process. It runs the jobs of a batch one after another
 * and reports each; it never kills anything itself (the main thread owns every process group), except when
 * the main process vanishes in process mode, where nobody else is left to do it.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type {
  CaptureOptions,
  FromWorker,
  Outcome,
  ToWorker,
  WireJob,
  WireOutcome,
  WorkerInit,
} from './protocol.js';
import { INIT_FLAG, OUTPUT_CREDIT, OUTPUT_RESUME, serializeError } from './protocol.js';
import { afterJob, execute, preloadKinds } from '../kinds/execute.js';
import { emptyOutcome } from '../kinds/outcome.js';
import { exportedFunction, importModule } from '../kinds/call/call.js';
import { bufferPaths, ownBuffers, tooDeepToSend } from './buffers.js';
import type { JobContext } from '../kinds/context.js';
import { RUN_ID_VAR } from '../proc/watchdog.js';
import { leaderStart, ownsGroup } from '../proc/owner.js';
import { kindOf } from '../kinds/index.js';
import { redactText } from '../util/redact.js';
import { printable } from '../util/text.js';
import { startTagging, tagChildren } from './worker-tag.js';
import type { ThreadWorkerData } from './thread.js';

const post: (m: FromWorker) => void = parentPort
  ? (m) => parentPort!.postMessage(m)
  : (m) => {
      process.send!(m);
    };

const skipped = new Set<number>();
/** Jobs told to stop before they started (the main thread takes a job as running once it is its worker's turn). */
const abortedEarly = new Set<number>();
const queue: WireJob[] = [];
let busy = false;
let slot = 0;
/** How to keep job output: the pool's, the same in every batch. */
let capture: CaptureOptions;

/**
 * The running job (one runs at a time): its streamed output the main thread has not printed yet, its abort
 * controller (made on first use: only copy and download read the signal, and one per tiny call adds up), and
 * its process group while it has one.
 */
const flow: {
  key: number;
  unacked: number;
  waiter: (() => void) | undefined;
  ac: AbortController | undefined;
  pgid: number | undefined;
  /** The group leader's start time (process mode only: see the 'disconnect' handler). */
  leader: string | undefined;
} = { key: -1, unacked: 0, waiter: undefined, ac: undefined, pgid: undefined, leader: undefined };
/** Something to wait on for a millisecond at a time, without spinning (Atomics.wait on memory nobody writes). */
let sleeper: Int32Array | undefined;

function onMessage(msg: ToWorker): void {
  switch (msg.type) {
    case 'batch':
      slot = msg.worker;
      capture = msg.capture;
      queue.push(...msg.jobs);
      if (!busy) {
        busy = true;
        // Not at once: a `skip` that came with this batch is handled before the first job starts.
        // poolrun's own failure ends the worker (the pool replaces it) as an uncaught error: it is no call's
        // rejection, which would only be a warning (unhandledRejection below), leaving the worker busy for good.
        setImmediate(() => {
          drain().catch((e: unknown) =>
            process.nextTick(() => {
              throw e;
            }),
          );
        });
      }
      break;
    case 'skip':
      if (msg.key === flow.key) post({ type: 'began', key: msg.key });
      // Not one it gave back (`take`) or ran already: those are not here to skip.
      else if (queue.some((q) => q.key === msg.key)) skipped.add(msg.key);
      break;
    case 'take': {
      const i = queue.findIndex((q) => q.key === msg.key);
      if (i >= 0) {
        queue.splice(i, 1);
        skipped.delete(msg.key);
        abortedEarly.delete(msg.key);
        post({ type: 'given', key: msg.key });
      } else if (msg.key === flow.key) post({ type: 'began', key: msg.key });
      break;
    }
    case 'abort':
      if (msg.key === flow.key) (flow.ac ??= new AbortController()).abort();
      // Not started yet (its batch is here, its turn has not come): it starts aborted. Dropped, it ran to its end.
      else if (queue.some((q) => q.key === msg.key)) abortedEarly.add(msg.key);
      break;
    case 'ack':
      if (msg.key !== flow.key) break;
      flow.unacked -= msg.bytes;
      if (flow.unacked <= OUTPUT_RESUME && flow.waiter) {
        const go = flow.waiter;
        flow.waiter = undefined;
        go();
      }
      break;
    case 'init':
      gotInit?.(msg.init);
      break;
    case 'exit':
      if (parentPort) parentPort.close();
      else process.disconnect();
      break;
  }
}

async function drain(): Promise<void> {
  for (;;) {
    await takeControlMessages();
    const w = queue.shift();
    if (!w) break;
    if (skipped.delete(w.key)) {
      post({ type: 'done', key: w.key, outcome: skippedOutcome() });
      continue;
    }
    await runOne(w);
    // A job that ends by itself is seen through its process, not the channel: a `skip` the main thread sent
    // before it killed this job's group may be unread yet. Only calls, which return at once, keep the 1 ms pace.
    if (kindOf(w.job).stop !== 'worker') lastYield = -Infinity;
  }
  busy = false;
}

let lastYield = performance.now();

/**
 * A worker may hold jobs sent ahead; a `skip` for one of them must be seen before it starts. Calls that return
 * at once never let the event loop run, so messages are taken here: synchronously from a thread's port, and in
 * a process by yielding to the event loop at least once a millisecond.
 */
async function takeControlMessages(): Promise<void> {
  if (parentPort) {
    takeMessagesNow(parentPort);
    return;
  }
  const now = performance.now();
  if (now - lastYield < 1) return;
  // Twice: the first immediate may run in this turn's check phase, before the loop has read the channel again
  // (a job that just ended was seen in this turn's poll); the second comes after a poll, which reads what the
  // main thread sent meanwhile (a `skip` sent before it killed the job that just ended).
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastYield = performance.now();
}

function takeMessagesNow(port: NonNullable<typeof parentPort>): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port))
    onMessage(m.message as ToWorker);
}

/** Blocks this thread until the main thread has printed enough of the running job's output. */
function waitForOutputTaken(): void {
  if (!parentPort) return;
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    takeMessagesNow(parentPort);
    if (flow.unacked <= OUTPUT_RESUME) return;
    Atomics.wait(sleeper, 0, 0, 1);
  }
}

/** A function, not an expression in runOne: there TypeScript keeps `flow.ac` narrowed to its reset value. */
function wasAborted(): boolean {
  return flow.ac?.signal.aborted === true;
}

async function runOne(w: WireJob): Promise<void> {
  flow.key = w.key;
  flow.unacked = 0;
  flow.waiter = undefined;
  flow.ac = undefined;
  flow.pgid = undefined;
  flow.leader = undefined;
  if (abortedEarly.delete(w.key)) (flow.ac = new AbortController()).abort();
  const ctx: JobContext = {
    key: w.key,
    job: w.job,
    worker: slot,
    capture,
    get signal() {
      return (flow.ac ??= new AbortController()).signal;
    },
    spawned(pid, start) {
      flow.pgid = pid;
      // Read before this worker's loop can reap it: the number is certainly the leader's here (the main thread,
      // reading it when this message arrives, would often find a tiny job gone already, and pay for it there).
      const leader = start ?? leaderStart(pid, process.pid);
      if (!parentPort) flow.leader = leader;
      // Posted at once, for every job: until the main thread has it, nothing can kill the job's group if this
      // worker dies (a worker process OOM-killed, a thread ended) — holding it back to save a message for tiny
      // jobs left such a job running after poolrun (review of issue 15's B1 work).
      post({ type: 'spawned', key: w.key, pid, leader: leader ?? null });
    },
    output(stream, data) {
      post({ type: 'output', key: w.key, stream, data });
      flow.unacked += data.byteLength;
      return flow.unacked <= OUTPUT_CREDIT;
    },
    whenOutputTaken(fn) {
      if (flow.unacked <= OUTPUT_RESUME) fn();
      else flow.waiter = fn;
    },
    waitForOutputTaken,
  };
  let outcome: Outcome;
  let aborted = false;
  try {
    // A job stopped by ending its worker (a call): what it starts is found by the worker's tag (worker-tag.ts).
    tagChildren(kindOf(w.job).stop === 'worker');
    outcome = await execute(ctx);
  } catch (e) {
    outcome = emptyOutcome(Date.now(), serializeError(e));
  } finally {
    aborted = wasAborted();
    flow.key = -1;
    flow.waiter = undefined;
    flow.ac = undefined;
    flow.pgid = undefined;
    flow.leader = undefined;
    afterJob(w.job);
  }
  // Only a kind stopped by its abort signal (copy, download) ends `aborted`. A shell job is told too when poolrun
  // kills its group (kinds/run/run.ts lets its pipes go); its status is then the kill's (pool/finish.ts).
  if (aborted && kindOf(w.job).stop === 'abort') outcome.aborted = true;
  const wire = toWire(outcome);
  try {
    if (outcome.value !== undefined) {
      const deep = tooDeepToSend(outcome.value);
      if (deep) throw new RangeError(deep);
      // A thread's clone loses a Buffer's class (a process's serialization keeps it): say where they were.
      const paths = parentPort ? bufferPaths(outcome.value) : [];
      if (paths.length) wire.bufferPaths = paths;
    }
    post({ type: 'done', key: w.key, outcome: wire });
  } catch (e) {
    delete wire.bufferPaths;
    // The return value of a call could not be cloned: report that instead of losing the job.
    const error = serializeError(e);
    error.message = `the return value cannot be sent to the main thread: ${error.message}`;
    // The same name in both modes: a thread's structured clone says DataCloneError, a process's v8.serialize Error.
    error.name = 'DataCloneError';
    post({ type: 'done', key: w.key, outcome: { ...wire, value: undefined, error } });
  }
}

function toWire(o: Outcome): WireOutcome {
  const { stdout, stderr, ...rest } = o;
  const wire: WireOutcome = rest;
  if (stdout.byteLength) wire.stdout = stdout;
  if (stderr.byteLength) wire.stderr = stderr;
  return wire;
}

function skippedOutcome(): WireOutcome {
  return { exitCode: null, signal: null, startedAt: Date.now(), durationMs: 0, skipped: true };
}

if (parentPort) {
  parentPort.on('message', onMessage);
  // A batch that cannot be read here is lost: the thread dies saying why, so its jobs fail instead of waiting.
  parentPort.on('messageerror', (e) => {
    throw new Error(`a message from the main thread could not be read: ${e.message}`);
  });
} else {
  process.on('message', (m) => {
    const msg = m as ToWorker;
    // Typed arrays as a thread gets them: each with a buffer of its own, not a view into the message.
    if (msg.type === 'batch')
      for (const w of msg.jobs) if (w.job.kind === 'call') ownBuffers(w.job.call.args);
    if (msg.type === 'init') ownBuffers(msg.init.args);
    onMessage(msg);
  });
  // Ctrl-C (and `kill %1`) signal the whole foreground process group, worker processes included. The main
  // process decides what happens to the jobs (SIGTERM, grace, SIGKILL, results): a worker dying under it
  // would turn a graceful stop into crashed jobs. The worker leaves when the main process disconnects.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
  // The main process is gone (even by SIGKILL): nobody else will kill our jobs' process groups.
  // Only while the group holds a process of this run: once the leader is reaped, the number may be another's.
  process.on('disconnect', () => {
    const token = process.env[RUN_ID_VAR];
    if (flow.pgid !== undefined && (token === undefined || ownsGroup(flow.pgid, flow.leader, token))) {
      try {
        process.kill(-flow.pgid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    process.exit(0);
  });
  process.on('uncaughtException', (err) => {
    // Say why before dying; the IPC write is asynchronous, so exit once it is flushed (or soon regardless).
    setTimeout(() => process.exit(70), 1000).unref();
    try {
      process.send!({ type: 'fatal', error: serializeError(err) } satisfies FromWorker, undefined, {}, () =>
        process.exit(70),
      );
    } catch {
      process.exit(70);
    }
  });
}
// The initializer runs before the worker says it is ready: a worker whose initializer throws dies unready, and
// the pool stops respawning after a few such deaths instead of looping.
const data = parentPort ? (workerData as ThreadWorkerData | undefined) : undefined;
// A thread started before the run set its token (pool/prestart.ts) is given it here, before any job.
if (data?.runToken !== undefined) process.env[RUN_ID_VAR] = data.runToken;
// What its calls start is marked as this worker's, from here (its initializer's processes too): worker-tag.ts.
startTagging();
// A promise a call left rejected with no handler is a warning, and the worker goes on. It is noticed after the call
// has returned, often while the next call runs: a worker dying of it failed that call, which did nothing wrong,
// with a BrokenWorkerError naming another's error. An exception thrown outside any call (a timer) still ends it.
process.on('unhandledRejection', (reason) => {
  let what: string;
  try {
    what = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  } catch {
    what = Object.prototype.toString.call(reason);
  }
  const who = slot > 0 ? `worker ${slot}` : 'a worker';
  process.stderr.write(
    `poolrun: warning: a call left a promise rejected with no handler (${who} goes on): ${printable(redactText(what))}\n`,
  );
});
// The queue URL (cli/queue-options.ts QUEUE_ENV), with its password, is poolrun's, never a job's: no shell job,
// call or copy sees it (a job could read the password, or become a producer into the same queue).
delete process.env.POOLRUN_QUEUE;
/** A process's initializer arrives as its first message (INIT_FLAG): see onMessage's 'init'. */
let gotInit: ((init: WorkerInit) => void) | undefined;
const init: Promise<WorkerInit> | WorkerInit | undefined = parentPort
  ? data?.init
  : process.argv[2] === INIT_FLAG
    ? new Promise<WorkerInit>((resolve) => (gotInit = resolve))
    : undefined;
/**
 * No top-level await in this module, nor in any module a worker loads before it is ready (a test walks the graph):
 * Node 20's V8 aborts the whole process ("Check failed: (location_) != nullptr" in ExecuteAsyncModule) when a
 * thread is terminated while it runs the synchronous start of a module that has one, and the pool, the executor's
 * shutdown and process.exit() all terminate threads that may still be starting.
 */
async function start(): Promise<void> {
  if (init) {
    const { module, export: name, args } = await init;
    const mod = await importModule(module);
    const { fn } = exportedFunction(module, mod, name);
    if (!fn) throw new TypeError(`initializer: ${module} has no exported function "${name}"`);
    await fn(...args);
  }
  await preloadKinds();
  post({ type: 'ready' });
}
// A failed start is an uncaught exception, as a rejected top-level await was: the thread's 'error' event, or the
// process's 'fatal' message above.
start().catch((err: unknown) =>
  process.nextTick(() => {
    throw err;
  }),
);
