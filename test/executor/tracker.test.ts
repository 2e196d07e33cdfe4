import { describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/executor/tracker.js';
import { ShutdownError } from '../../src/errors.js';
import type { ExecutorEvent } from '../../src/executor/types.js';
import type { Job, JobResult } from '../../src/kinds/types.js';

const job = (index: number): Job => ({ id: String(index + 1), index, kind: 'run', run: 'true' });
const result = (j: Job): JobResult => ({ id: j.id, index: j.index, status: 'succeeded' }) as JobResult;

describe('JobTracker', () => {
  it('emits queued on add and one finished per job; size, has, get, isLive follow', () => {
    const events: ExecutorEvent[] = [];
    const t = new JobTracker<{ job: Job; id: string }, string>({
      onEvent: (e) => void events.push(e),
      key: (e) => e.id,
    });
    const a = { job: job(0), id: 'a' };
    const b = { job: job(1), id: 'b' };
    t.add(a);
    t.add(b);
    expect(events.map((e) => e.event)).toEqual(['queued', 'queued']);
    expect(t.size).toBe(2);
    expect(t.has('a')).toBe(true);
    expect(t.get('b')).toBe(b);
    expect(t.isLive({ job: job(0), id: 'a' })).toBe(false); // another entry under the same key
    expect(t.finish(a, result(a.job), { stdout: Buffer.from('x'), stderr: Buffer.alloc(0) })).toBe(true);
    expect(t.finish(a, result(a.job))).toBe(false);
    expect(events.filter((e) => e.event === 'finished')).toHaveLength(1);
    const fin = events[2] as Extract<ExecutorEvent, { event: 'finished' }>;
    expect(fin.job).toBe(a.job);
    expect(fin.output?.stdout.toString()).toBe('x');
    expect(t.values()).toEqual([b]);
    expect(t.has('a')).toBe(false);
  });

  it('builds the output only for a listener', () => {
    let built = 0;
    const quiet = new JobTracker<{ job: Job }>();
    const e = { job: job(0) };
    quiet.add(e);
    expect(quiet.listening).toBe(false);
    expect(quiet.finish(e, result(e.job), () => (built++, undefined))).toBe(true);
    expect(built).toBe(0);
    const events: ExecutorEvent[] = [];
    const loud = new JobTracker<{ job: Job }>({ onEvent: (ev) => void events.push(ev) });
    loud.add(e);
    loud.finish(e, result(e.job), () => (built++, undefined));
    expect(built).toBe(1);
  });

  it('emit gives back a promise that settles with the one the listener returns', async () => {
    let release!: () => void;
    const p = new Promise<void>((r) => (release = r));
    const t = new JobTracker<{ job: Job }>({ onEvent: (e) => (e.event === 'output' ? p : 1) });
    const out = {
      event: 'output',
      job: job(0),
      attempt: 1,
      stream: 'stdout',
      data: Buffer.alloc(0),
      time: 0,
    } as const;
    const held = t.emit(out);
    let settled = false;
    void held?.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    release();
    await held;
    expect(settled).toBe(true);
    expect(t.emit({ event: 'queued', job: job(0), time: 0 })).toBeUndefined();
  });

  it('whenIdle resolves once the last job has finished', async () => {
    const t = new JobTracker<{ job: Job }>();
    await t.whenIdle(); // none: at once
    const a = { job: job(0) };
    const b = { job: job(1) };
    t.add(a);
    t.add(b);
    let idle = false;
    const waiting = t.whenIdle().then(() => (idle = true));
    t.finish(a, result(a.job));
    await Promise.resolve();
    expect(idle).toBe(false);
    t.finish(b, result(b.job));
    await waiting;
    expect(idle).toBe(true);
  });

  it('shutdown: refuses submissions, cancels and kills as asked, closes once, waits only when asked', async () => {
    const t = new JobTracker<{ job: Job }>();
    const calls: string[] = [];
    const stopper = { cancelPending: () => calls.push('cancel'), killRunning: () => calls.push('kill') };
    let closes = 0;
    let release!: () => void;
    const closed = new Promise<void>((r) => (release = r));
    const close = () => {
      closes++;
      return closed;
    };
    expect(() => t.checkOpen()).not.toThrow();
    const seen: unknown[] = [];
    await t.shutdown({ wait: false, cancelFutures: true }, stopper, close, (o) => seen.push(o));
    expect(t.shutDown).toBe(true);
    expect(() => t.checkOpen()).toThrow(ShutdownError);
    expect(calls).toEqual(['cancel']);
    expect(seen).toEqual([{ wait: false, cancelFutures: true, kill: false }]);
    await t.shutdown({ kill: true, wait: false }, stopper, close);
    expect(calls).toEqual(['cancel', 'cancel', 'kill']);
    expect(closes).toBe(1);
    let done = false;
    const waiting = t.shutdown({}, stopper, close).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    release();
    await waiting;
    expect(done).toBe(true);
    expect(closes).toBe(1);
  });
});
