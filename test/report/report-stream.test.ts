/** `--output stream`: lines as they come, prefixed `[id] `, never glued to another job's line. */
import { describe, expect, it } from 'vitest';
import { poolrun, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();
const jobFile = writeJobs;

describe('--output stream', () => {
  it('a partial line waits for its newline; another job printing meanwhile gets lines of its own', async () => {
    const dir = temp();
    const file = jobFile(dir, [
      {
        id: 'slow',
        // Its line ends only after chatty printed a whole line (a file chatty touches), and a moment more.
        run: `printf 'start of '; while [ ! -e ${dir}/said ]; do sleep 0.05; done; sleep 0.3; printf 'the line\\n'; printf 'tail without newline'`,
      },
      { id: 'chatty', run: `for i in 1 2 3; do echo "chatty $i"; touch ${dir}/said; sleep 0.1; done` },
      { id: 'err', run: 'sleep 0.2; echo "to stderr" >&2' },
    ]);
    const r = await poolrun(['--output', 'stream', '-w', '3', file]);
    expect(r.code).toBe(0);
    const out = r.stdout.split('\n');
    expect(out[out.length - 1]).toBe('');
    expect(out.slice(0, -1).sort()).toEqual(
      [
        '[slow] start of the line',
        '[slow] tail without newline',
        '[chatty] chatty 1',
        '[chatty] chatty 2',
        '[chatty] chatty 3',
      ].sort(),
    );
    // Lines came as they were printed: chatty's before slow's, which waited for it.
    expect(out.indexOf('[chatty] chatty 1')).toBeLessThan(out.indexOf('[slow] start of the line'));
    expect(r.stderr).toMatch(/^\[err\] to stderr$/m);
  });

  it("a job's last line without a newline is printed when the job ends, not when the jobs before it have", async () => {
    // README probe: `[fast] partial` came out after the slow first job's line, 2 s after fast had ended.
    const dir = temp();
    const file = jobFile(dir, [
      { id: 'slow', run: `while [ ! -e ${dir}/fast-done ]; do sleep 0.05; done; sleep 0.5; echo S` },
      { id: 'fast', run: `echo F; printf partial; printf 'x\\n' > ${dir}/fast-done` },
    ]);
    const r = await poolrun(['-q', '--output', 'stream', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual(['[fast] F', '[fast] partial', '[slow] S', '']);
    // GNU's --line-buffer (no prefix, no newline added): the same order, as `parallel --line-buffer` prints it.
    const g = await poolrun(['--line-buffer', file]);
    expect(g.stdout).toBe('F\npartialS\n');
  });

  it('a job printing a huge line without newlines is cut into prefixed pieces, not held whole', async () => {
    const dir = temp();
    const file = jobFile(dir, [{ id: 'wide', run: "head -c 300000 /dev/zero | tr '\\0' x" }]);
    const r = await poolrun(['-q', '--output', 'stream', file]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').slice(0, -1);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const l of lines) {
      expect(l.startsWith('[wide] ')).toBe(true);
      expect(l.length).toBeLessThanOrEqual(7 + 64 * 1024);
    }
    expect(lines.map((l) => l.slice(7)).join('')).toBe('x'.repeat(300000));
  });

  it('the [id] prefix shows an id as the status lines do: control characters escaped, one line, secrets masked', async () => {
    const dir = temp();
    // Every C0 control but NUL (refused in an id), DEL, a C1 CSI, line separators and a bidi override, each in an id of its own.
    const controls = [...Array.from({ length: 31 }, (_, i) => i + 1), 0x7f, 0x9b, 0x2028, 0x2029, 0x202e];
    const jobs = controls.map((c, i) => ({ id: `a${String.fromCharCode(c)}b${i}`, run: `echo out${i}` }));
    jobs.push({ id: 'https://u:hunter2@example.com/x?t=s3cret', run: 'echo url' });
    const file = jobFile(dir, jobs);
    for (const mode of ['thread', 'process']) {
      const r = await poolrun(['-q', '-m', mode, '--output', 'stream', file]);
      expect(r.code).toBe(0);
      const lines = r.stdout.split('\n').slice(0, -1);
      expect(lines).toHaveLength(jobs.length);
      // eslint-disable-next-line no-control-regex
      for (const l of lines) expect(l).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
      controls.forEach((_, i) =>
        expect(lines).toContainEqual(
          expect.stringMatching(new RegExp(`^\\[a\\\\(x[0-9a-f]{2}|u[0-9a-f]{4}|n|t)b${i}\\] out${i}$`)),
        ),
      );
      expect(r.stdout).not.toMatch(/hunter2|s3cret/);
      expect(lines).toContain('[https://***:***@example.com/x?t=***] url');
    }
  });
});
