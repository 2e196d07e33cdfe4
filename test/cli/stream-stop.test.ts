/**
 * A bad line of input read as it arrives, after jobs were submitted, stops the run (README, "Streaming"): nothing
 * more starts, running trees are killed, exit 2 with the line's location. What ran is still reported: --json,
 * --junit, --report, the joblog and NDJSON are written as after any other stop (a signal, --halt), with the job
 * that was killed `cancelled`. Before, the run exited 2 and wrote none of them: a CI job asked for a JUnit file got
 * nothing about the jobs that had run. Generated over kinds of bad line, input forms and outputs.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  BIN,
  CLI_TIMEOUT_MS,
  GENERATED_TIMEOUT_MS,
  pidAlive,
  pidStart,
  readJson,
  track,
  useTempDirs,
  waitFor,
} from '../helpers.js';

const temp = useTempDirs();

interface Form {
  name: string;
  args: string[];
  /** Job 1 touches `done`; job 2 writes its shell's pid to `pid`, then sleeps. */
  good: (done: string, pid: string) => string;
  /** Bad lines of this input form, each with the column its location must name. */
  bad: Array<{ line: string; where: RegExp }>;
}

const FORMS: Form[] = [
  {
    name: 'JSONL on stdin',
    args: ['-'],
    good: (done, pid) =>
      `${JSON.stringify({ id: 'one', run: `touch ${done}` })}\n` +
      `${JSON.stringify({ id: 'two', run: `echo $$ > ${pid}; exec sleep 60` })}\n`,
    bad: [
      { line: 'not json\n', where: /<stdin>:3:1: / },
      { line: '{"run": "x", "oops": 1}\n', where: /<stdin>:3:14: / },
      { line: '{"run": 5}\n', where: /<stdin>:3:/ },
      { line: '{"copy": {"from": "a"}}\n', where: /<stdin>:3:/ },
      { line: '{"run": "x", "id": "one"}\n', where: /<stdin>:3:/ },
      { line: '{"run": "\\ud800"}\n', where: /<stdin>:3:/ },
    ],
  },
  {
    name: '--each on stdin',
    args: ['--each', 'sh -c {}'],
    good: (done, pid) => `touch ${done}\necho $$ > ${pid}; exec sleep 60\n`,
    bad: [{ line: 'a\0b\n', where: /<stdin>:3:2: .*NUL/ }],
  },
];

describe('a bad streamed line after jobs ran still writes the results', () => {
  it(
    'every output says what ran; the running job is killed and cancelled; exit 2 with the location (generated)',
    async () => {
      let cases = 0;
      for (const form of FORMS) {
        for (const [k, bad] of form.bad.entries()) {
          const dir = temp();
          const [done, pid] = [join(dir, 'done'), join(dir, 'pid')];
          const json = join(dir, 'r.json');
          const junit = join(dir, 'r.xml');
          const report = join(dir, 'r.html');
          const joblog = join(dir, 'j.log');
          const what = `${form.name}, bad line ${k}`;
          const child = track(
            execa(
              process.execPath,
              [
                BIN,
                '-w',
                '2',
                '--json',
                json,
                '--junit',
                junit,
                '--report',
                report,
                '--joblog',
                joblog,
                ...form.args,
              ],
              { cwd: dir, stdin: 'pipe', reject: false, timeout: CLI_TIMEOUT_MS, env: { NO_COLOR: '1' } },
            ),
          );
          child.stdin.write(form.good(done, pid));
          // Both jobs are under way (one finished, one sleeping) before the bad line arrives. The first has
          // finished when poolrun logged it, not when its file appeared: a stop between the two kills it first.
          const logged = () => existsSync(joblog) && readFileSync(joblog, 'utf8').split('\n').length > 2;
          expect(await waitFor(() => existsSync(pid) && logged(), 30_000), what).toBe(true);
          const sleeper = Number(readFileSync(pid, 'utf8'));
          const start = pidStart(sleeper);
          child.stdin.end(bad.line);
          const r = await child;
          expect(r.exitCode, `${what}: ${String(r.stderr)}`).toBe(2);
          expect(String(r.stderr), what).toMatch(bad.where);
          expect(String(r.stderr), what).toMatch(/2 jobs before it had been submitted; the run was stopped/);
          expect(String(r.stderr), what).toMatch(
            /2 jobs: 1 succeeded, 1 cancelled .*\(stopped at a bad line of input\)/,
          );
          expect(pidAlive(sleeper, start), `${what}: the sleeping job is gone`).toBe(false);

          const doc = readJson(json);
          expect(
            doc.results.map((x) => x.status),
            what,
          ).toEqual(['succeeded', 'cancelled']);
          expect(doc.summary, what).toMatchObject({ total: 2, succeeded: 1, cancelled: 1 });
          const xml = readFileSync(junit, 'utf8');
          expect(xml.match(/<testcase /g)?.length, what).toBe(2);
          await execa('xmllint', ['--noout', junit]);
          expect(readFileSync(report, 'utf8'), what).toMatch(/<html/i);
          // The joblog has the job that finished; a job poolrun killed did not finish and is not logged.
          const lines = readFileSync(joblog, 'utf8').trimEnd().split('\n');
          expect(lines.length, what).toBe(2);
          expect(lines[1]!.split('\t')[6], what).toBe('0');
          cases++;
        }
      }
      expect(cases).toBe(7);
    },
    GENERATED_TIMEOUT_MS,
  );

  it('NDJSON ends with a summary whose stop is "input", and the message is on stderr', async () => {
    const dir = temp();
    const done = join(dir, 'done');
    const child = track(
      execa(process.execPath, [BIN, '--reporter', 'ndjson', '-'], {
        cwd: dir,
        stdin: 'pipe',
        reject: false,
        timeout: CLI_TIMEOUT_MS,
      }),
    );
    let seen = '';
    child.stdout.on('data', (b: Buffer) => (seen += String(b)));
    child.stdin.write(`${JSON.stringify({ id: 'one', run: `touch ${done}` })}\n`);
    // The job has finished when poolrun said so, not when its file appeared (a stop in between kills it first).
    expect(await waitFor(() => seen.includes('"event":"finished"'), 30_000)).toBe(true);
    expect(existsSync(done)).toBe(true);
    child.stdin.end('{"nope": 1}\n');
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(2);
    expect(String(r.stderr)).toMatch(/^poolrun: <stdin>: 2 problems; .*\n<stdin>:2:1: .*\n<stdin>:2:2: /);
    const events = String(r.stdout)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; stop?: string; total?: number });
    expect(events.at(-1)).toMatchObject({ event: 'summary', stop: 'input', total: 1, succeeded: 1 });
  });

  it('a bad line before any job was submitted still runs nothing and writes nothing', async () => {
    const dir = temp();
    const json = join(dir, 'r.json');
    const r = await execa(process.execPath, [BIN, '--json', json, '-'], {
      cwd: dir,
      input: '{"run": "touch ran"}\nnot json\n',
      reject: false,
      timeout: CLI_TIMEOUT_MS,
    });
    expect(r.exitCode).toBe(2);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(existsSync(json)).toBe(false);
  });
});
