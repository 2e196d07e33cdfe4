/**
 * A program that cannot be started ends as a shell says: exit status 127 (not found) or 126 (found, not
 * executable, or a directory), never Node's negative errno, on both spawn paths; the error names the program.
 * The joblog, --json, the status line and JUnit all show that status.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs, writeJobs } from '../../helpers.js';

const temp = useTempDirs();

describe.each(['native', 'node'])('a program that cannot start (POOLRUN_SPAWN=%s)', (spawn) => {
  it('exits 127 when not found and 126 when not executable or a directory', async () => {
    const cwd = temp();
    writeFileSync(join(cwd, 'noexec.sh'), 'echo hi\n', { mode: 0o644 });
    mkdirSync(join(cwd, 'adir'));
    const file = writeJobs(cwd, [
      { id: 'missing', run: ['nosuchprog-zz'] },
      { id: 'noexec', run: ['./noexec.sh'] },
      { id: 'dir', run: ['./adir'] },
      { id: 'shell', run: 'nosuchprog-zz' },
    ]);
    const json = join(cwd, 'r.json');
    const log = join(cwd, 'log');
    const xml = join(cwd, 'j.xml');
    const r = await poolrun(['--joblog', log, '--json', json, '--junit', xml, file], {
      cwd,
      env: { POOLRUN_SPAWN: spawn },
    });
    expect(r.code).toBe(1);
    const { results } = JSON.parse(readFileSync(json, 'utf8')) as {
      results: Array<{ id: string; exitCode: number; error: { message: string } | null }>;
    };
    const by = new Map(results.map((x) => [x.id, x]));
    expect(by.get('missing')!.exitCode).toBe(127);
    expect(by.get('missing')!.error!.message).toContain('nosuchprog-zz');
    expect(by.get('noexec')!.exitCode).toBe(126);
    expect(by.get('noexec')!.error!.message).toContain('noexec.sh');
    expect(by.get('dir')!.exitCode).toBe(126);
    expect(by.get('shell')!.exitCode).toBe(127);
    // The joblog is in the order jobs ended (as GNU's): by Seq (column 1), the input order.
    const exitvals = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'))
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map((f) => f[6]);
    expect(exitvals).toEqual(['127', '126', '126', '127']);
    expect(r.stderr).not.toMatch(/exit -\d/);
    expect(r.stderr).toMatch(/exit 127/);
    const junit = readFileSync(xml, 'utf8');
    expect(junit).not.toMatch(/status -\d/);
    expect(junit).toContain('exit status 127');
  });
});

/**
 * Why it could not start is said wherever the job's end is shown — the status line, the summary, JUnit's message,
 * the --report tooltip — not only in --json; a cwd that is a file ends as a missing one does; the error carries no
 * stack from inside poolrun.
 */
describe.each([
  ['native', 'thread'],
  ['native', 'process'],
  ['node', 'thread'],
  ['node', 'process'],
])('the reason a program could not start (POOLRUN_SPAWN=%s, %s mode)', (spawn, mode) => {
  it('is in every reporter, and a cwd that is a file is 127 like a missing one', async () => {
    const cwd = temp();
    writeFileSync(join(cwd, 'afile'), 'x');
    writeFileSync(join(cwd, 'noexec.sh'), 'echo hi\n', { mode: 0o644 });
    const file = writeJobs(cwd, [
      { id: 'nf', run: ['no-such-prog-xyz', 'a'] },
      { id: 'nocwd', cwd: 'nope', run: 'pwd' },
      { id: 'filecwd', cwd: 'afile', run: 'pwd' },
      { id: 'filecwd-argv', cwd: 'afile', run: ['ls'] },
      { id: 'noexec', run: ['./noexec.sh'] },
    ]);
    const json = join(cwd, 'r.json');
    const xml = join(cwd, 'j.xml');
    const html = join(cwd, 'r.html');
    const r = await poolrun(['--mode', mode, '--json', json, '--junit', xml, '--report', html, file], {
      cwd,
      env: { POOLRUN_SPAWN: spawn },
    });
    expect(r.code).toBe(1);
    const reasons: Record<string, [number, string]> = {
      nf: [127, 'command not found: no-such-prog-xyz'],
      nocwd: [127, `cwd does not exist or is not a directory: ${join(cwd, 'nope')}`],
      filecwd: [127, `cwd does not exist or is not a directory: ${join(cwd, 'afile')}`],
      'filecwd-argv': [127, `cwd does not exist or is not a directory: ${join(cwd, 'afile')}`],
      noexec: [126, 'permission denied: ./noexec.sh'],
    };
    const { results } = JSON.parse(readFileSync(json, 'utf8')) as {
      results: Array<{ id: string; exitCode: number | null; error: Record<string, unknown> | null }>;
    };
    const junit = readFileSync(xml, 'utf8');
    const report = readFileSync(html, 'utf8');
    for (const [id, [status, message]] of Object.entries(reasons)) {
      const x = results.find((y) => y.id === id)!;
      expect(x.exitCode, id).toBe(status);
      expect(x.error!.message, id).toBe(message);
      // The shape of a job's error: name, message, code; poolrun's own stack is no part of it.
      expect(Object.keys(x.error!).sort(), id).toEqual(['code', 'message', 'name']);
      const line = `failed ${id} (worker `;
      const shown = r.stderr.split('\n').filter((l) => l.includes(line));
      expect(shown.length, id).toBe(2); // the status line and the summary
      for (const l of shown) expect(l, id).toContain(`exit ${status}, ${message})`);
      expect(junit, id).toContain(`message="${message} (exit status ${status})"`);
      expect(report, id).toContain(JSON.stringify(message).slice(1, -1));
    }
    expect(r.stderr).not.toContain('ENOTDIR');
    expect(r.stderr).not.toContain('dist/');
  });
});
