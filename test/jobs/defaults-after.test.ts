/**
 * `defaults.after` (the contract: "`defaults` applies to every job that does not set the field", `after` among
 * them): a job without an `after` of its own waits for the defaults' ids; `"after": []` waits for nothing. Its
 * problems (unknown ids, a job named there that would wait for itself, cycles through it) are exit 2 before
 * anything runs, located. Real CLI runs in temp folders.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

/** Writes a job document, one job a line, so that locations are easy to compute. */
function writeDoc(dir: string, defaults: unknown, jobs: unknown[]): string {
  const file = join(dir, 'jobs.json');
  const body = jobs.map((j) => `    ${JSON.stringify(j)}`).join(',\n');
  writeFileSync(file, `{\n  "defaults": ${JSON.stringify(defaults)},\n  "jobs": [\n${body}\n  ]\n}\n`);
  return file;
}

/** `file:line:column` (1-based) of the first occurrence of `needle` at or after the start of line `line`. */
function at(file: string, line: number, needle: string): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const col = lines[line - 1]!.indexOf(needle);
  if (col < 0) throw new Error(`${needle} not on line ${line}`);
  return `${file}:${line}:${col + 1}`;
}

describe('defaults.after', () => {
  it('a job without an `after` of its own (a command string too) waits for the defaults’ ids', async () => {
    const cwd = temp();
    const file = writeDoc(cwd, { after: ['setup', 'more'] }, [
      { id: 'setup', after: [], run: 'sleep 0.3; echo one > s' },
      { id: 'more', after: 'setup', run: 'sleep 0.2; cat s > m' },
      { id: 'b', run: 'cat s m > b.out' },
      'cat s m > c.out',
    ]);
    const res = await poolrun(['-q', '-j', '4', file], { cwd });
    expect(res.code, res.stderr).toBe(0);
    expect(readFileSync(join(cwd, 'b.out'), 'utf8')).toBe('one\none\n');
    expect(readFileSync(join(cwd, 'c.out'), 'utf8')).toBe('one\none\n');

    // A job's own `after` replaces the defaults' (it is not added to them); `[]` is no wait at all.
    const dry = await poolrun(['--dry-run', file], { cwd });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).not.toMatch(/"setup" waits/);
    expect(dry.stdout).toContain('# "more" waits for "setup"\n');
    expect(dry.stdout).toContain('# "b" waits for "setup", "more"\n');
    expect(dry.stdout).toContain('# "4" waits for "setup", "more"\n');
  });

  it('one id (not an array) is taken as well; a failure cancels the jobs that took it', async () => {
    const cwd = temp();
    const file = writeDoc(cwd, { after: 'gate', timeout: '30s' }, [
      { id: 'gate', after: [], run: 'exit 3' },
      { id: 'x', run: 'touch x' },
      { id: 'free', after: [], run: 'touch free' },
    ]);
    const res = await poolrun([file], { cwd });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain('cancelled x (not run: it runs after "gate", which failed)');
    expect(existsSync(join(cwd, 'x'))).toBe(false);
    expect(existsSync(join(cwd, 'free'))).toBe(true);
  });

  it('a job named in defaults.after without an `after` of its own: exit 2 at the job, saying how to opt out', async () => {
    const cwd = temp();
    const file = writeDoc(cwd, { after: ['a', 'b'] }, [
      { id: 'a', run: 'touch ran' },
      { id: 'b', after: [], run: 'touch ran' },
      'touch ran',
    ]);
    const res = await poolrun(['-q', file], { cwd });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(res.stderr).toContain(
      `${at(file, 4, '{')}: jobs[0]: a job cannot run after itself ("a"): it has no "after" of its own, so it ` +
        'takes defaults.after; give it "after": [] to wait for nothing',
    );
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(cwd, 'ran'))).toBe(false);
  });

  it('a job named by its position, a command string, takes defaults.after too', async () => {
    const cwd = temp();
    const file = writeDoc(cwd, { after: 2 }, [{ after: [], run: 'touch ran' }, 'touch ran']);
    const res = await poolrun(['-q', file], { cwd });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain(`${at(file, 5, '"')}: jobs[1]: a job cannot run after itself ("2")`);
    expect(existsSync(join(cwd, 'ran'))).toBe(false);
  });

  it('unknown ids in defaults.after: exit 2 once each, at defaults.after, even when no job takes it', async () => {
    for (const own of [false, true]) {
      const cwd = temp();
      const mine = own ? { after: [] } : {};
      const file = writeDoc(cwd, { after: ['a', 'nobody', 'none'] }, [
        { id: 'a', after: [], run: 'touch ran' },
        { id: 'b', ...mine, run: 'touch ran' },
        { id: 'c', ...mine, run: 'touch ran' },
      ]);
      const res = await poolrun(['-q', file], { cwd });
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).not.toMatch(/\n\s+at /);
      expect(res.stderr.trim().split('\n')).toEqual([
        `poolrun: ${file}: 2 problems; nothing ran:`,
        `${at(file, 2, '"nobody"')}: defaults.after[1]: unknown id "nobody" (no job has it)`,
        `${at(file, 2, '"none"')}: defaults.after[2]: unknown id "none" (no job has it)`,
      ]);
      expect(existsSync(join(cwd, 'ran'))).toBe(false);
    }
    // One id, not an array.
    const cwd = temp();
    const file = writeDoc(cwd, { after: 'ghost' }, [{ id: 'a', run: 'touch ran' }]);
    const res = await poolrun(['-q', file], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      `${at(file, 2, '"ghost"')}: defaults.after: unknown id "ghost" (no job has it)`,
    );
    expect(existsSync(join(cwd, 'ran'))).toBe(false);
  });

  it('a cycle through defaults.after: exit 2, the whole cycle, saying which jobs take it', async () => {
    const cwd = temp();
    const file = writeDoc(cwd, { after: ['w', 'x'] }, [
      { id: 'w', after: [], run: 'touch ran' },
      { id: 'y', run: 'touch ran' },
      { id: 'x', after: 'y', run: 'touch ran' },
    ]);
    const res = await poolrun(['-q', file], { cwd });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain(
      `${at(file, 2, '"x"')}: defaults.after[1]: dependency cycle: "y" → "x" → "y" (each runs after the next; ` +
        '"y" takes defaults.after, which "after": [] on a job opts out of)',
    );
    expect(existsSync(join(cwd, 'ran'))).toBe(false);
  });

  it('defaults.after takes the checks of a job’s `after`', async () => {
    for (const bad of ['', [''], [1.5], {}, [['a']]]) {
      const cwd = temp();
      const file = writeDoc(cwd, { after: bad }, [{ id: 'a', after: [], run: 'touch ran' }]);
      const res = await poolrun(['-q', file], { cwd });
      expect(res.code, `${JSON.stringify(bad)}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(/jobs\.json:2:\d+: defaults\.after/);
      expect(existsSync(join(cwd, 'ran'))).toBe(false);
    }
  });

  it('`id` stays refused in defaults: ids are unique', async () => {
    const cwd = temp();
    const file = writeDoc(cwd, { id: 'same', after: 'a' }, [{ id: 'a', after: [], run: 'touch ran' }]);
    const res = await poolrun(['-q', file], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('defaults.id: unknown key "id": ids are unique, so "id" has no default');
    expect(existsSync(join(cwd, 'ran'))).toBe(false);
  });
});

describe('"after": [] on a job', () => {
  it('is accepted and waits for nothing, in a JSON array and in a JSONL file', async () => {
    for (const name of ['jobs.json', 'jobs.jsonl']) {
      const cwd = temp();
      const jobs = [
        { id: 'a', after: [], run: 'touch a' },
        { id: 'b', after: [], run: 'touch b' },
      ];
      const file = join(cwd, name);
      writeFileSync(
        file,
        name.endsWith('l') ? jobs.map((j) => JSON.stringify(j)).join('\n') + '\n' : JSON.stringify(jobs),
      );
      const res = await poolrun(['-q', file], { cwd });
      expect(res.code, res.stderr).toBe(0);
      expect(existsSync(join(cwd, 'a')) && existsSync(join(cwd, 'b'))).toBe(true);
      const dry = await poolrun(['--dry-run', file], { cwd });
      expect(dry.stdout).toBe('touch a\ntouch b\n');
    }
  });
});
