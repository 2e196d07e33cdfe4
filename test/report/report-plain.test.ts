/* eslint-disable no-control-regex -- these tests look for terminal escape codes */
/** The plain status display (stderr not a terminal) and the summary, parsed line by line. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { poolrun, useTempDirs, writeJobs } from '../helpers.js';
import { describeEnd } from '../../src/report/summary.js';
import type { JobResult } from '../../src/kinds/types.js';

const temp = useTempDirs();
const jobFile = writeJobs;

const STATUS_LINE =
  /^(\d\d):(\d\d):(\d\d)\.(\d{3}) (started|succeeded|failed|timed-out|cancelled) (\S+)(?: \((.*)\))?$/;

interface StatusLine {
  status: string;
  id: string;
  details: string | undefined;
}

/** Splits stderr into status lines and the summary after them; every line must be one or the other. */
function parse(stderr: string): { events: StatusLine[]; summary: string[] } {
  const lines = stderr.replace(/\n$/, '').split('\n');
  const first = lines.findIndex((l) => l.startsWith('poolrun: '));
  expect(first, stderr).toBeGreaterThanOrEqual(0);
  const events = lines.slice(0, first).map((l) => {
    const m = STATUS_LINE.exec(l);
    expect(m, `not a status line: ${JSON.stringify(l)}`).not.toBeNull();
    return { status: m![5]!, id: m![6]!, details: m![7] };
  });
  return { events, summary: lines.slice(first) };
}

describe('plain status lines', () => {
  it('one line per state change: HH:MM:SS.mmm status id (worker, duration, exit); no cursor codes, no colour', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'ok', run: 'echo fine' },
      { id: 'bad', run: 'exit 3' },
      { id: 'slow', run: 'sleep 5' },
      { id: 'killed', run: 'sleep 30' },
    ]);
    const r = await poolrun(['-w', '4', '--timeout', '1s', '--kill-after', '200ms', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\x1b/);
    const { events, summary } = parse(r.stderr);
    for (const id of ['ok', 'bad', 'slow', 'killed']) {
      expect(events.filter((e) => e.id === id).map((e) => e.status)[0]).toBe('started');
      expect(events.filter((e) => e.id === id)).toHaveLength(2);
    }
    const end = (id: string) => events.find((e) => e.id === id && e.status !== 'started')!;
    expect(end('ok').status).toBe('succeeded');
    expect(end('ok').details).toMatch(/^worker \d, \d+ms, exit 0$/);
    expect(end('bad').status).toBe('failed');
    expect(end('bad').details).toMatch(/^worker \d, \d+ms, exit 3$/);
    expect(end('slow').status).toBe('timed-out');
    expect(end('killed').details).toMatch(
      /^worker \d, (?:\d+ms|\d\.\d\ds), signal SIGTERM, timed out after 1000ms$/,
    );
    expect(events.find((e) => e.id === 'ok' && e.status === 'started')!.details).toMatch(/^worker \d$/);

    expect(summary[0]).toMatch(/^poolrun: 4 jobs: 1 succeeded, 1 failed, 2 timed out in \d/);
    expect(summary[1]).toMatch(
      /^ {2}slowest: (slow|killed) (?:\d+ms|\d\.\d\ds), (slow|killed) (?:\d+ms|\d\.\d\ds), (ok|bad) \d+ms$/,
    );
    // On the native spawn path a "heaviest" line (CPU, memory: test/proc/spawn-native.test.ts) follows "slowest".
    expect(summary.slice(2).filter((l) => !/^ {2}heaviest: /.test(l))).toEqual([
      expect.stringMatching(/^ {2}failed bad \(worker \d, \d+ms, exit 3\)$/),
      expect.stringMatching(
        /^ {2}timed-out slow \(worker \d, (?:\d+ms|\d\.\d\ds), signal SIGTERM, timed out after 1000ms\)$/,
      ),
      expect.stringMatching(
        /^ {2}timed-out killed \(worker \d, (?:\d+ms|\d\.\d\ds), signal SIGTERM, timed out after 1000ms\)$/,
      ),
    ]);
  });

  it('cancelled jobs (--halt soon) get a line and are named in the summary; the stop reason is said', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'first', run: 'exit 1' },
      { id: 'second', run: 'echo never' },
    ]);
    const r = await poolrun(['-w', '1', '--halt', 'soon', file]);
    expect(r.code).toBe(1);
    const { events, summary } = parse(r.stderr);
    expect(events.find((e) => e.id === 'second')).toEqual({
      status: 'cancelled',
      id: 'second',
      details: undefined,
    });
    expect(summary[0]).toMatch(
      /^poolrun: 2 jobs: 0 succeeded, 1 failed, 1 cancelled in .* \(halted after a failure\)$/,
    );
    expect(summary).toContain('  cancelled second');
    expect(r.stdout).toBe('');
  });

  it('an id with a newline stays on one line (escaped)', async () => {
    const dir = temp();
    const r = await poolrun([jobFile(dir, [{ id: 'two\nlines', run: 'true' }])]);
    expect(r.code).toBe(0);
    const { events } = parse(r.stderr);
    expect(events.map((e) => e.id)).toEqual(['two\\nlines', 'two\\nlines']);
  });

  it('an id with terminal controls, bidi overrides or line separators is shown escaped, in every status line', async () => {
    const dir = temp();
    const controls = [
      '\x1b]0;owned\x07',
      '\x1b[2J',
      '\r',
      '\u009b31m',
      '\u202e',
      '\u2066',
      '\u2028',
      '\x7f',
      '\t',
    ];
    const jobs = controls.map((c, i) => ({ id: `id${i}${c}x`, run: i % 2 ? 'exit 1' : 'true' }));
    const r = await poolrun([jobFile(dir, jobs)]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(r.stderr).toContain('id4\\u202ex');
    expect(r.stderr).toContain('id0\\x1b]0;owned\\x07x');
  });

  it('colour only when forced (FORCE_COLOR), and still no cursor codes', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'a', run: 'true' },
      { id: 'b', run: 'exit 1' },
    ]);
    const forced = await poolrun([file], { env: { FORCE_COLOR: '1', NO_COLOR: '' } });
    expect(forced.stderr).toMatch(/\x1b\[3\dm(succeeded|failed)\x1b\[39m/);
    expect(forced.stderr).not.toMatch(/\x1b\[(\?25|\d*[ABJK])/);
    const noColor = await poolrun(['--no-color', file], { env: { FORCE_COLOR: '1', NO_COLOR: '' } });
    expect(noColor.stderr).not.toMatch(/\x1b/);
  });

  it('with --joblog, a failed run ends with the command that reruns what did not succeed', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'a', run: 'true' },
      { id: 'b', run: 'exit 4' },
    ]);
    const log = join(dir, 'run.log');
    const r = await poolrun(['--joblog', log, file]);
    expect(r.code).toBe(1);
    const hint = r.stderr.trimEnd().split('\n').pop()!;
    expect(hint).toBe(`  to rerun what did not succeed: poolrun --resume-failed --joblog ${log} ${file}`);
    // No hint without a joblog, nor when everything succeeded.
    expect((await poolrun([file])).stderr).not.toMatch(/resume/);
    const ok = await poolrun(['--joblog', join(dir, 'ok.log'), jobFile(dir, ['true'])]);
    expect(ok.stderr).not.toMatch(/resume/);
  });

  it('--quiet: no status lines and no summary; job output only', async () => {
    const dir = temp();
    const r = await poolrun(['-q', jobFile(dir, ['echo out', 'exit 2'])]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('');
  });
});

describe('what a finished job line says', () => {
  const base: JobResult = {
    id: 'x',
    index: 0,
    kind: 'copy',
    status: 'succeeded',
    exitCode: null,
    signal: null,
    attempts: 1,
    worker: 2,
    pid: 1,
    threadId: 1,
    startedAt: null,
    durationMs: 120,
    stdout: '',
    stderr: '',
    value: null,
    error: null,
  };
  it('copy and download results show the bytes they moved', () => {
    expect(describeEnd({ ...base, bytes: 512 })).toBe(' (worker 2, 120ms, 512 B)');
    expect(describeEnd({ ...base, kind: 'download', bytes: 3 * 1024 * 1024 + 200 * 1024 })).toBe(
      ' (worker 2, 120ms, 3.2 MiB)',
    );
  });
  it('a failure without an exit status says why, on one line', () => {
    const r: JobResult = {
      ...base,
      status: 'failed',
      error: { name: 'Error', message: 'ENOSPC: no space left\n    at write' },
    };
    expect(describeEnd(r)).toBe(' (worker 2, 120ms, ENOSPC: no space left)');
  });
  it('a newline that is part of the message (a file name) is escaped, not cut at; so are other controls', () => {
    const at = (message: string): string =>
      describeEnd({ ...base, status: 'failed', error: { name: 'CopyError', message } });
    expect(at('cannot copy /d/fi\nfo: not a regular file')).toBe(
      ' (worker 2, 120ms, cannot copy /d/fi\\nfo: not a regular file)',
    );
    expect(at('source not found: /d/a\r\x1b[31mb\u202e')).toBe(
      ' (worker 2, 120ms, source not found: /d/a\\x0d\\x1b[31mb\\u202e)',
    );
  });
});
