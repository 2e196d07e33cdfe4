/**
 * mkdir -p without Node 20's endless loop (src/util/mkdirs.ts): a folder under /proc, which mkdir(2) answers
 * with ENOENT although the parent exists, is an error at once, in the library's functions and through the CLI
 * (a copy's destination, --results), where it spun at full CPU deaf to SIGTERM. A --results folder that
 * cannot be made is exit 2 before anything runs.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirs, mkdirsSync } from '../../src/util/mkdirs.js';
import { poolrun, useTempDirs, writeJobs } from '../helpers.js';

const temp = useTempDirs();

describe('mkdirsSync / mkdirs', () => {
  it('make the missing folders, take an existing one, and a path with bytes that are not UTF-8', async () => {
    const dir = temp();
    mkdirsSync(join(dir, 'a/b/c'));
    expect(statSync(join(dir, 'a/b/c')).isDirectory()).toBe(true);
    mkdirsSync(join(dir, 'a/b/c/'));
    await mkdirs(join(dir, 'x//y/z'));
    expect(statSync(join(dir, 'x/y/z')).isDirectory()).toBe(true);
    await mkdirs(join(dir, 'x'));
    const odd = Buffer.concat([Buffer.from(join(dir, 'n-')), Buffer.from([0xe9, 0xff]), Buffer.from('/d')]);
    mkdirsSync(odd);
    expect(statSync(odd).isDirectory()).toBe(true);
  });

  it('a file on the way is ENOTDIR; a folder procfs will not take is ENOENT, at once', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'f'), '');
    expect(() => mkdirsSync(join(dir, 'f/sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    await expect(mkdirs(join(dir, 'f/sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(() => mkdirsSync('/proc/poolrun-x/y')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    await expect(mkdirs('/proc/poolrun-x/y')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('a destination under /proc through the CLI ends, with the reason', () => {
  it.each(['thread', 'process'])(
    'a copy to /proc/x/y fails (%s mode); --results there is exit 2',
    async (mode) => {
      const dir = temp();
      writeFileSync(join(dir, 'src.txt'), 'x');
      const copy = await poolrun(
        ['-m', mode, writeJobs(dir, [{ copy: { from: 'src.txt', to: '/proc/poolrun-x/y' } }])],
        {
          cwd: dir,
        },
      );
      expect(copy.code, copy.stderr).toBe(1);
      expect(copy.stderr).toMatch(/ENOENT/);
      // A --results folder that cannot be made is exit 2 before anything runs (GNU parallel dies at its mkdir).
      const cases: Array<[string, string]> = [
        ['/proc/poolrun-x', 'ENOENT'],
        ['/proc/poolrun-x/{}', 'ENOENT'],
        ['/sys/poolrun-x/{1}/y', 'EPERM'],
      ];
      for (const [res, code] of cases) {
        const marker = join(dir, 'ran');
        const r = await poolrun(['-m', mode, '-q', '--results', res, '--each', `touch ${marker}`, 'x'], {
          cwd: dir,
        });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`--results .*: cannot make the folder .*\\(${code}\\)`));
        expect(existsSync(marker)).toBe(false);
      }
      expect(existsSync('/proc/poolrun-x')).toBe(false);
    },
  );
});
