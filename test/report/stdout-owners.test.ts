/**
 * A reporter that writes to stdout (`--reporter ndjson`, `--json -`, `--junit -`) owns it: no job output, no
 * --call value, no GitHub annotation beside it, for every way of giving jobs (--call, --each, a job file) and every
 * kind (run, call, copy, download). Every combination is run; each job prints or returns a MARK the check looks for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs, writeJobs } from '../helpers.js';
import { startServer, type TestServer } from '../download-server.js';

const temp = useTempDirs();
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
  server.serve('file.txt', Buffer.from('MARK-downloaded\n'));
});
afterAll(() => server.close());

const MODULE = `
export function mark(x) { console.log('MARK-log-' + x); if (x === 'bad') throw new Error('MARK-thrown'); return 'MARK-value-' + x; }
`;

type Owner = 'ndjson' | 'json' | 'junit';
const OWNERS: Record<Owner, string[]> = {
  ndjson: ['--reporter', 'ndjson'],
  json: ['--json', '-'],
  junit: ['--junit', '-'],
};

/** How the jobs are given: argv after the options, in a fresh folder. */
type Source = (dir: string) => string[];
const SOURCES: Record<string, Source> = {
  call: (dir) => ['--call', `${moduleIn(dir)}#mark`, 'a', 'bad', 'c'],
  each: () => ['--each', 'echo MARK-each-{}; test {} != bad', 'a', 'bad'],
  'job file (every kind)': (dir) => {
    writeFileSync(join(dir, 'src.txt'), 'copied\n');
    return [
      writeJobs(dir, [
        { id: 'run', run: 'echo MARK-run; echo MARK-run-err >&2' },
        { id: 'run-fails', run: 'echo MARK-run-fails; exit 3' },
        { id: 'call', call: { module: moduleIn(dir), export: 'mark', args: ['x'] } },
        { id: 'call-throws', call: { module: moduleIn(dir), export: 'mark', args: ['bad'] } },
        { id: 'copy', copy: { from: 'src.txt', to: 'dst.txt' } },
        { id: 'download', download: { url: `${server.url}/ok/file.txt`, to: 'got.txt' } },
      ]),
    ];
  },
};

function moduleIn(dir: string): string {
  const file = join(dir, 'mark.mjs');
  writeFileSync(file, MODULE);
  return file;
}

/** What stdout must be: the owner's document and nothing else (with --call, the values are in it). */
function check(owner: Owner, source: string, stdout: string): void {
  const value = source === 'call' ? 'MARK-value-a' : undefined;
  if (owner === 'ndjson') {
    expect(stdout.endsWith('\n')).toBe(true);
    const events = stdout
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; index: number; value?: unknown });
    // Every line an event: a bare value (`"MARK-value-a"`, `4`) is JSON too, but no event.
    for (const e of events) expect(typeof e.event, JSON.stringify(e)).toBe('string');
    expect(events.at(-1)!.event).toBe('summary');
    if (value) expect(events.find((e) => e.event === 'finished' && e.index === 0)?.value).toBe(value);
  } else if (owner === 'json') {
    const doc = JSON.parse(stdout) as { results: Array<{ value: unknown }> };
    expect(doc.results.length).toBeGreaterThan(0);
    if (value) expect(doc.results[0]!.value).toBe(value);
  } else {
    expect(stdout.startsWith('<?xml')).toBe(true);
    expect(stdout.endsWith('</testsuites>\n')).toBe(true);
    // Neither output nor values are in JUnit's XML for these jobs outside their failure text.
    expect(stdout.replace(/<failure[^>]*>[\s\S]*?<\/failure>/g, '')).not.toContain('MARK');
  }
}

const combos = Object.keys(OWNERS).flatMap((o) =>
  Object.keys(SOURCES).flatMap((s) => ['group', 'stream'].map((output) => [o as Owner, s, output] as const)),
);

describe('a reporter on stdout leaves no job output or value beside it', () => {
  it.each(combos)('%s, %s, --output %s (GITHUB_ACTIONS=true)', async (owner, source, output) => {
    const dir = temp();
    const r = await poolrun(['-q', '--output', output, ...OWNERS[owner], ...SOURCES[source]!(dir)], {
      cwd: dir,
      env: { GITHUB_ACTIONS: 'true' },
    });
    expect(r.code, r.stderr).toBe(1);
    check(owner, source, r.stdout);
    // The annotations of the failures go to stderr.
    expect(r.stdout).not.toContain('::error');
    expect(r.stderr).toContain('::error');
  });
});

describe('stdout has one owner', () => {
  it.each([
    [['--reporter', 'ndjson', '--junit', '-'], /--reporter ndjson and --junit - both write to stdout/],
    [['--json', '-', '--junit', '-'], /--json - and --junit - both write to stdout/],
    [['--reporter', 'ndjson', '--json', '-'], /--reporter ndjson and --json - both write to stdout/],
    [['--dry-run', '--json', '-'], /--dry-run prints the commands on stdout, where --json - writes too/],
    [
      ['--dry-run', '--reporter', 'ndjson'],
      /--dry-run prints the commands on stdout, where --reporter ndjson/,
    ],
    [['--dry-run', '--junit', '-'], /--dry-run prints the commands on stdout, where --junit - writes too/],
  ])('%j is refused, exit 2', async (opts, message) => {
    const r = await poolrun(['-q', ...opts, '--each', 'echo {}', 'a']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('--junit - writes the XML on stdout, and no file named -', async () => {
    const dir = temp();
    const r = await poolrun(['-q', '--junit', '-', '--each', 'echo {}', 'a'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^<\?xml[\s\S]*<testcase name="1"[\s\S]*<\/testsuites>\n$/);
    expect(() => writeFileSync(join(dir, '-'), '', { flag: 'wx' })).not.toThrow();
  });
});

describe('--reporter ndjson: run-level events', () => {
  it('summary carries id: null and index: null, as every event has id and index', async () => {
    const r = await poolrun(['-q', '--reporter', 'ndjson', '--each', 'echo {}', 'a']);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of events) {
      expect(e).toHaveProperty('id');
      expect(e).toHaveProperty('index');
      expect(e).toHaveProperty('time');
    }
    expect(events.at(-1)).toMatchObject({ event: 'summary', id: null, index: null, total: 1 });
  });
});
