/**
 * A --json, --junit or --report path that is a symbolic link is replaced by the new file, not written through: a
 * link planted in a shared folder cannot redirect the write (a review found that following links let another user's
 * link in a sticky /tmp make root overwrite any file, and a link changed during the run turn a device into a
 * file). A joblog opened through a link to a file not there yet creates that file, so another output spelt as that
 * file is refused (exit 2): the report's rename had replaced the joblog (acceptance probe).
 */
import { describe, expect, it } from 'vitest';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
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

describe('outputs and symbolic links', () => {
  it.each(OPTIONS)(
    '%s at a link: the link is replaced by the file; the file it named is untouched',
    async (opt) => {
      const dir = temp();
      mkdirSync(join(dir, 'private'));
      writeFileSync(join(dir, 'private', 'victim'), 'SECRET\n');
      chmodSync(join(dir, 'private', 'victim'), 0o600);
      // A relative link, and a link to it in another folder.
      symlinkSync('private/victim', join(dir, 'out.link'));
      mkdirSync(join(dir, 'sub'));
      symlinkSync('../out.link', join(dir, 'sub', 'out2.link'));
      for (const path of ['sub/out2.link', 'out.link']) {
        const res = await poolrun(['-q', opt, path, '--each', 'echo {}', 'a'], { cwd: dir });
        expect(res.code, res.stderr).toBe(0);
        expect(lstatSync(join(dir, path)).isFile(), path).toBe(true);
        expect(readFileSync(join(dir, path), 'utf8').toLowerCase()).toContain(looksRight[opt]);
      }
      expect(readFileSync(join(dir, 'private', 'victim'), 'utf8')).toBe('SECRET\n');
      expect(statSync(join(dir, 'private', 'victim')).mode & 0o777).toBe(0o600);
    },
  );

  it('a link to a file not there yet, or into a folder that does not exist, is replaced too', async () => {
    const dir = temp();
    symlinkSync('new.out', join(dir, 'dangling.out'));
    symlinkSync('/nonexistent-poolrun/dir/f', join(dir, 'nowhere.out'));
    for (const path of ['dangling.out', 'nowhere.out']) {
      const res = await poolrun(['-q', '--json', path, '--each', 'echo {}', 'a'], { cwd: dir });
      expect(res.code, res.stderr).toBe(0);
      expect(lstatSync(join(dir, path)).isFile()).toBe(true);
    }
    expect(existsSync(join(dir, 'new.out'))).toBe(false);
  });

  it('two outputs that are one file through a chain of links to a file not there yet: exit 2, nothing run', async () => {
    const dir = temp();
    symlinkSync('o.log', join(dir, 'o2.log'));
    symlinkSync('o2.log', join(dir, 'o3.log'));
    for (const [a, b, link] of [
      ['--report', '--joblog', 'o2.log'],
      ['--json', '--joblog', 'o3.log'],
      ['--joblog', '--junit', 'o2.log'],
    ]) {
      const res = await poolrun(
        ['-q', a!, 'o.log', b!, link!, '--each', `touch ${join(dir, 'ran')}; : {}`, 'x'],
        { cwd: dir },
      );
      expect(res.code, res.stderr).toBe(2);
      // Named in the order the outputs are checked (--json, --junit, --report, --joblog).
      expect(res.stderr).toMatch(/--\w+ o\d?\.log and --\w+ o\d?\.log are the same file/);
      expect(res.stderr).toContain(`${a} o.log`);
      expect(res.stderr).toContain(`${b} ${link}`);
      expect(existsSync(join(dir, 'ran'))).toBe(false);
    }
  });

  it('a copy writing the file a chain of dangling links from --json names: exit 2 at its `to`', async () => {
    const dir = temp();
    symlinkSync('l2.json', join(dir, 'out.json'));
    symlinkSync('real.json', join(dir, 'l2.json'));
    writeFileSync(join(dir, 'src.txt'), 'x\n');
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify([{ copy: { from: 'src.txt', to: 'real.json' } }]));
    const res = await poolrun(['-q', '--joblog', 'out.json', 'jobs.json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(
      /jobs\.json:1:\d+: jobs\[0\]\.copy\.to: writes .*real\.json, which is --joblog out\.json/,
    );
  });
});
