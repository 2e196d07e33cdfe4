/** `--reporter ndjson`: the event stream on stdout, parsed line by line. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { poolrun, useTempDirs, waitFor, writeJobs } from '../helpers.js';
import { startPoolrun } from '../cli/failure-helpers.js';

const temp = useTempDirs();
const jobFile = writeJobs;

interface Event {
  event: string;
  id?: string;
  index?: number;
  time: string;
  [k: string]: unknown;
}

/** Every line is one JSON object: anything else fails here. */
function events(stdout: string): Event[] {
  expect(stdout.endsWith('\n')).toBe(true);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const e = JSON.parse(line) as Event;
      expect(typeof e.event).toBe('string');
      expect(new Date(e.time).toISOString()).toBe(e.time);
      return e;
    });
}

const bytesOf = (e: Event, field = 'data', enc = 'encoding') =>
  Buffer.from(e[field] as string, e[enc] === 'base64' ? 'base64' : 'utf8');

describe('--reporter ndjson', () => {
  it('queued, started, finished per job, summary last; stdout carries nothing else, stderr nothing', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'a', run: 'echo A' },
      { id: 'b', run: 'echo B >&2; exit 5' },
      { id: 'c', run: 'sleep 0.2' },
    ]);
    const r = await poolrun(['--reporter', 'ndjson', '-w', '2', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const evs = events(r.stdout);
    const last = evs[evs.length - 1]!;
    expect(last).toMatchObject({
      event: 'summary',
      total: 3,
      succeeded: 2,
      failed: 1,
      timedOut: 0,
      cancelled: 0,
    });
    expect(typeof last.durationMs).toBe('number');
    expect(evs.filter((e) => e.event === 'summary')).toHaveLength(1);
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      const mine = evs.filter((e) => e.id === id);
      expect(mine.map((e) => e.event)).toEqual(['queued', 'started', 'finished']);
      for (const e of mine) expect(e.index).toBe(i);
      expect(typeof mine[1]!.worker).toBe('number');
      expect(mine[1]!.attempt).toBe(1);
    }
    const b = evs.find((e) => e.id === 'b' && e.event === 'finished')!;
    expect(b).toMatchObject({
      kind: 'run',
      status: 'failed',
      exitCode: 5,
      signal: null,
      stderr: 'B\n',
      attempts: 1,
    });
    expect(evs.find((e) => e.id === 'a' && e.event === 'finished')).toMatchObject({ stdout: 'A\n' });
  });

  it('--output stream adds one output event per line; the bytes add up exactly, binary included', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'text', run: "printf 'one\\ntwo\\nno newline at the end'" },
      { id: 'binary', run: "printf 'ok\\n\\377\\376\\000\\001\\n\\303'" },
      { id: 'utf8', run: "printf 'caf\\303\\251 \\342\\202\\254\\n' >&2" },
    ]);
    const r = await poolrun(['--reporter', 'ndjson', '--output', 'stream', '-w', '3', file]);
    expect(r.code).toBe(0);
    const evs = events(r.stdout);
    const out = (id: string, stream: string) =>
      Buffer.concat(
        evs.filter((e) => e.event === 'output' && e.id === id && e.stream === stream).map((e) => bytesOf(e)),
      );
    expect(out('text', 'stdout').toString()).toBe('one\ntwo\nno newline at the end');
    expect(evs.filter((e) => e.event === 'output' && e.id === 'text').map((e) => e.data)).toEqual([
      'one\n',
      'two\n',
      'no newline at the end',
    ]);
    expect(out('binary', 'stdout')).toEqual(Buffer.from([0x6f, 0x6b, 0x0a, 0xff, 0xfe, 0, 1, 0x0a, 0xc3]));
    expect(evs.some((e) => e.id === 'binary' && e.encoding === 'base64')).toBe(true);
    // Valid lines stay text.
    expect(evs.find((e) => e.id === 'binary' && e.event === 'output')).toMatchObject({ data: 'ok\n' });
    expect(out('utf8', 'stderr').toString()).toBe('café €\n');
    // Every output event comes before its job's finished event.
    for (const id of ['text', 'binary', 'utf8']) {
      const fin = evs.findIndex((e) => e.id === id && e.event === 'finished');
      const lastOut = evs
        .map((e, i) => (e.id === id && e.event === 'output' ? i : -1))
        .reduce((a, b) => Math.max(a, b));
      expect(lastOut).toBeLessThan(fin);
    }
    // The finished result carries the captured output, base64 when it is not UTF-8.
    const bin = evs.find((e) => e.id === 'binary' && e.event === 'finished')!;
    expect(bin.stdoutEncoding).toBe('base64');
    expect(bytesOf(bin, 'stdout', 'stdoutEncoding')).toEqual(out('binary', 'stdout'));
    expect(evs.find((e) => e.id === 'utf8' && e.event === 'finished')).toMatchObject({ stderr: 'café €\n' });
  });

  it('retries show as retry events, with the attempt that failed', async () => {
    const dir = temp();
    const marker = join(dir, 'ran-once');
    const file = jobFile(dir, [{ id: 'flaky', run: `test -e ${marker} || { touch ${marker}; exit 9; }` }]);
    const r = await poolrun(['--reporter', 'ndjson', '--retries', '2', file]);
    expect(r.code).toBe(0);
    const evs = events(r.stdout).filter((e) => e.id === 'flaky');
    expect(evs.map((e) => e.event)).toEqual(['queued', 'started', 'retry', 'started', 'finished']);
    expect(evs[2]).toMatchObject({ attempt: 1, status: 'failed', exitCode: 9 });
    expect(evs[3]).toMatchObject({ attempt: 2 });
    expect(evs[4]).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('a stop is in the summary; --json - cannot share stdout with it', async () => {
    const dir = temp();
    const file = jobFile(dir, ['sleep 5', 'sleep 5']);
    const r = await poolrun(['--reporter', 'ndjson', '--deadline', '2s', '--kill-after', '100ms', file]);
    expect(r.code).toBe(124);
    expect(r.stderr).toBe(''); // no "--deadline reached" notice: stderr stays silent
    const evs = events(r.stdout);
    expect(evs[evs.length - 1]).toMatchObject({ event: 'summary', stop: 'deadline', total: 2 });
    const clash = await poolrun(['--reporter', 'ndjson', '--json', '-', file]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/^poolrun: --reporter ndjson and --json - both write to stdout/);
  });

  it('a signal: stderr stays silent (first and second SIGINT, SIGTERM); the summary says the stop', async () => {
    const dir = temp();
    const file = jobFile(dir, ['sleep 5', 'sleep 5']);
    for (const signals of [['SIGINT'], ['SIGINT', 'SIGINT'], ['SIGTERM']] as const) {
      const child = startPoolrun(['--reporter', 'ndjson', '--kill-after', '3s', file]);
      let seen = '';
      child.stdout.on('data', (d: Buffer) => (seen += d.toString()));
      expect(await waitFor(() => (seen.match(/"started"/g) ?? []).length === 2, 20_000)).toBe(true);
      for (const sig of signals) {
        child.kill(sig);
        await new Promise((r) => setTimeout(r, 200));
      }
      const r = await child;
      expect(r.stderr, signals.join(' ')).toBe('');
      const evs = events(String(r.stdout));
      expect(evs[evs.length - 1]).toMatchObject({ event: 'summary', stop: signals[0] });
    }
  });
});
