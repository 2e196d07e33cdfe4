/**
 * A --json, --junit or --report path that is a symbolic link is written through, as `>`, `curl -o` and `wget -O`
 * write: the file it names is replaced (keeping its mode), not the link (acceptance probe: the link became a new
 * 0644 file beside a 0600 target). A link to a file not there yet creates it, so two outputs that are one file
 * through such a link are refused (exit 2) as when the file exists; one into a folder that does not exist is exit 2
 * before anything runs.
 */
import { describe, expect, it } from 'vitest';
import {
  chmodSync,
  existsSync,
  lstatSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs } from '../helpers.js';

const temp = useTempDirs();
const OPTIONS = ['--json', '--junit', '--report'] as const;
const looksRight = { '--json': '"summary"', '--junit': '<testsuites', '--report': '<!doctype html' };

describe('outputs through symbolic links', () => {
  it.each(OPTIONS)(
    '%s through a link replaces the file it names, keeping its 0600 mode; the link stays',
    async (opt) => {
      const dir = temp();
      writeFileSync(join(dir, 'private.out'), 'old\n');
      chmodSync(join(dir, 'private.out'), 0o600);
      symlinkSync('private.out', join(dir, 'link.out'));
      // A link to a link, relative, in another folder.
      symlinkSync(join(dir, 'link.out'), join(dir, 'link2.out'));
      const res = await poolrun(['-q', opt, 'link2.out', '--each', 'echo {}', 'a'], { cwd: dir });
      expect(res.code, res.stderr).toBe(0);
      expect(lstatSync(join(dir, 'link.out')).isSymbolicLink()).toBe(true);
      expect(lstatSync(join(dir, 'link2.out')).isSymbolicLink()).toBe(true);
      expect(statSync(join(dir, 'private.out')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, 'private.out'), 'utf8').toLowerCase()).toContain(looksRight[opt]);
    },
  );

  it.each(OPTIONS)('%s through a link to a file not there yet creates that file', async (opt) => {
    const dir = temp();
    symlinkSync('new.out', join(dir, 'dangling.out'));
    const res = await poolrun(['-q', opt, 'dangling.out', '--each', 'echo {}', 'a'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(lstatSync(join(dir, 'dangling.out')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'new.out'), 'utf8').toLowerCase()).toContain(looksRight[opt]);
  });

  it('two outputs that are one file through a link to a file not there yet: exit 2, nothing run', async () => {
    const dir = temp();
    symlinkSync('o.log', join(dir, 'o2.log'));
    for (const [a, b] of [
      ['--report', '--joblog'],
      ['--json', '--junit'],
      ['--joblog', '--json'],
    ]) {
      const res = await poolrun(
        ['-q', a!, 'o.log', b!, 'o2.log', '--each', `touch ${join(dir, 'ran')}; : {}`, 'x'],
        {
          cwd: dir,
        },
      );
      expect(res.code, res.stderr).toBe(2);
      // Named in the order the outputs are checked (--json, --junit, --report, --joblog).
      expect(res.stderr).toMatch(/--\w+ o2?\.log and --\w+ o2?\.log are the same file/);
      expect(res.stderr).toContain(`${a} o.log`);
      expect(res.stderr).toContain(`${b} o2.log`);
      expect(existsSync(join(dir, 'ran'))).toBe(false);
    }
  });

  it('a link into a folder that does not exist: exit 2 before anything runs', async () => {
    const dir = temp();
    symlinkSync('/nonexistent-poolrun/dir/f', join(dir, 'dang.json'));
    const res = await poolrun(
      ['-q', '--json', 'dang.json', '--each', `touch ${join(dir, 'ran')}; : {}`, 'x'],
      {
        cwd: dir,
      },
    );
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain('folder /nonexistent-poolrun/dir does not exist');
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });
});
