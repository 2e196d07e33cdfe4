import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RunStop, type StopActions } from '../../src/cli/stop/run-stop.js';
import { haltPolicy } from '../../src/cli/stop/halt.js';
import { deadlineReached, startDeadline } from '../../src/cli/stop/deadline.js';
import { SIGNALS, stdoutClosedPolicy, watchSignals } from '../../src/cli/stop/signals.js';
import type { JobResult, JobStatus } from '../../src/kinds/types.js';
import { rng } from '../helpers.js';

/** Fake actions that record what the policies asked for, in order. */
function recorder(): { stop: RunStop; calls: string[]; notices: string[] } {
  const calls: string[] = [];
  const notices: string[] = [];
  const actions: StopActions = {
    cancelPending: () => calls.push('cancel'),
    killRunning: (o) => calls.push(o?.now ? 'kill-now' : 'kill'),
    killAll: () => calls.push('kill-all'),
    notice: (m) => notices.push(m),
    wake: () => calls.push('wake'),
  };
  return { stop: new RunStop(actions), calls, notices };
}

function result(status: JobStatus): JobResult {
  return { status } as JobResult;
}

const isStopped = (stop: RunStop) =>
  Promise.race([stop.stopped, new Promise((r) => setImmediate(() => r('running')))]);

describe('stop policies (cli/stop)', () => {
  it('signals: the first starts nothing more and TERMs the trees; a second KILLs them now; off when unwatched', async () => {
    for (const first of SIGNALS) {
      for (const second of SIGNALS) {
        const proc = new EventEmitter();
        const { stop, calls, notices } = recorder();
        const unwatch = watchSignals(proc, stop, 5000);
        expect(await isStopped(stop)).toBe('running');
        proc.emit(first, first);
        expect(stop.reason).toBe(first);
        expect(stop.interrupted).toBe(first);
        expect(calls).toEqual(['cancel', 'kill', 'wake']);
        expect(notices[0]).toBe(
          `${first}: starting no more jobs; running jobs get SIGTERM, then SIGKILL after 5.00s (${first} again to kill them now)`,
        );
        expect(await isStopped(stop)).toBe('stopped');
        proc.emit(second, second);
        expect(stop.reason).toBe(first);
        expect(calls.slice(3)).toEqual(['kill-now', 'kill-all']);
        expect(notices[1]).toBe(`${second} again: killing every running job now (SIGKILL)`);
        unwatch();
        for (const s of SIGNALS) expect(proc.listenerCount(s)).toBe(0);
      }
    }
  });

  it('closed stdout: as a signal, once; after a signal it changes nothing, and a signal after it still kills now', () => {
    const { stop, calls, notices } = recorder();
    const closed = stdoutClosedPolicy(stop, 2000);
    closed();
    expect(stop.reason).toBe('EPIPE');
    expect(notices).toEqual([
      'stdout was closed: starting no more jobs; running jobs get SIGTERM, then SIGKILL after 2.00s',
    ]);
    closed();
    expect(calls).toEqual(['cancel', 'kill', 'wake']);
    const proc = new EventEmitter();
    watchSignals(proc, stop, 2000);
    proc.emit('SIGINT', 'SIGINT');
    expect(calls.slice(3)).toEqual(['kill-now', 'kill-all']);
    expect(stop.reason).toBe('EPIPE');

    const other = recorder();
    const p2 = new EventEmitter();
    watchSignals(p2, other.stop, 2000);
    p2.emit('SIGTERM', 'SIGTERM');
    stdoutClosedPolicy(other.stop, 2000)();
    expect(other.stop.reason).toBe('SIGTERM');
    expect(other.calls).toEqual(['cancel', 'kill', 'wake']);
  });

  it('halt: the first failure or timeout stops starting (and kills with now); never ignores them', () => {
    const random = rng(14);
    const statuses: JobStatus[] = ['succeeded', 'failed', 'timed-out', 'cancelled'];
    for (let n = 0; n < 300; n++) {
      const mode = (['never', 'soon', 'now'] as const)[n % 3]!;
      const { stop, calls } = recorder();
      const onResult = haltPolicy(stop, mode);
      const seq = Array.from(
        { length: 1 + Math.floor(random() * 6) },
        () => statuses[Math.floor(random() * 4)]!,
      );
      for (const s of seq) onResult(result(s));
      const failed = seq.some((s) => s === 'failed' || s === 'timed-out');
      if (mode === 'never' || !failed) {
        expect(stop.reason).toBeUndefined();
        expect(calls).toEqual([]);
      } else {
        expect(stop.reason).toBe('halt');
        // Once: a later failure does not stop again.
        expect(calls).toEqual(mode === 'now' ? ['cancel', 'kill', 'wake'] : ['cancel', 'wake']);
      }
    }
  });

  it('halt does not replace an earlier reason', () => {
    const { stop, calls } = recorder();
    const proc = new EventEmitter();
    watchSignals(proc, stop, 1000);
    proc.emit('SIGHUP', 'SIGHUP');
    haltPolicy(stop, 'now')(result('failed'));
    expect(stop.reason).toBe('SIGHUP');
    expect(calls).toEqual(['cancel', 'kill', 'wake']);
  });

  it('deadline: stops and kills, marks the run past it, once; not after an interrupt; a signal after it still wins the exit', () => {
    const { stop, calls, notices } = recorder();
    deadlineReached(stop, 1500);
    expect(stop.deadlinePassed).toBe(true);
    expect(stop.reason).toBe('deadline');
    expect(notices).toEqual(['--deadline 1.50s reached: unfinished jobs cancelled']);
    deadlineReached(stop, 1500);
    expect(calls).toEqual(['cancel', 'kill', 'wake']);
    const proc = new EventEmitter();
    watchSignals(proc, stop, 1000);
    proc.emit('SIGINT', 'SIGINT');
    expect(stop.reason).toBe('SIGINT');

    const other = recorder();
    stdoutClosedPolicy(other.stop, 1000)();
    deadlineReached(other.stop, 1500);
    expect(other.stop.deadlinePassed).toBe(false);
    expect(other.stop.reason).toBe('EPIPE');
  });

  it('startDeadline: fires by its timer; disarmed, it never does; undefined arms nothing', async () => {
    const { stop } = recorder();
    startDeadline(stop, 1);
    await stop.stopped;
    expect(stop.reason).toBe('deadline');

    const other = recorder();
    startDeadline(other.stop, 1)();
    await new Promise((r) => setTimeout(r, 50));
    expect(other.stop.reason).toBeUndefined();
    startDeadline(other.stop, undefined)();
    expect(other.calls).toEqual([]);
  });
});
