/**
 * A command that begins with `-` or `+` is a command to /bin/sh, not its options: `sh -c -- CMD`. It was read as
 * sh's own options (`/bin/sh: 0: Illegal option -r`, exit 2, a probe), where a shell says the command is not found.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { poolrun, readJson, useTempDirs } from '../../helpers.js';

const temp = useTempDirs();

describe('a command beginning with - or +', () => {
  it.each([['-rf a'], ['+x'], ['-'], ['--version']])(
    '%j: not found, exit 127, as sh -c -- says',
    async (cmd) => {
      const dir = temp();
      const out = join(dir, 'r.json');
      const r = await poolrun(['-q', '--json', out, '--each', cmd, 'v'], { cwd: dir });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).not.toMatch(/Illegal option|invalid option/);
      const [res] = readJson(out).results;
      expect(res!.exitCode).toBe(127);
    },
  );

  it('$0 and "$@" are as before: sh -c -- CMD NAME ARGS', async () => {
    const r = await poolrun(['-q', '--each', 'printf "%s\\n" {} "$#"', 'x']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('x\n0\n');
  });
});
