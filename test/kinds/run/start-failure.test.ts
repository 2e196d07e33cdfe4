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
    const exitvals = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t')[6]);
    expect(exitvals).toEqual(['127', '126', '126', '127']);
    expect(r.stderr).not.toMatch(/exit -\d/);
    expect(r.stderr).toMatch(/exit 127/);
    const junit = readFileSync(xml, 'utf8');
    expect(junit).not.toMatch(/status -\d/);
    expect(junit).toContain('exit status 127');
  });
});
