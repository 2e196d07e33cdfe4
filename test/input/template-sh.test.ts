/**
 * The `--each` template reader against real /bin/sh (dash), differentially: templates from a small grammar of sh
 * constructs with `{}` at random places, hostile arguments, and for every template poolrun accepts, sh must receive
 * each argument as one literal word and no payload may run (see test/input/template-gen.mjs).
 */
import { describe, expect, it } from 'vitest';
import { compileTemplate, expandTemplate, type Template } from '../../src/input/template/index.js';
import { readdirSync } from 'node:fs';
import { poolrun, useTempDirs } from '../helpers.js';
// Plain JS, shared with bench/fuzz-template.mjs.
import { differential } from './template-gen.mjs';

interface Problem {
  template: string;
  arg?: Buffer;
  cmd?: string;
  what: string;
  want?: string;
  got?: string;
}
interface Outcome {
  accepted: number;
  refused: number;
  crashed: number;
  runs: number;
  problems: Problem[];
}
const run: (o: {
  seed: number;
  n: number;
  compile: (t: string) => Template;
  expand: (t: Template, arg: Buffer, seq: number) => string;
  work: string;
  perTemplate?: number;
}) => Outcome = differential;

const temp = useTempDirs();

describe('the template reader agrees with dash', () => {
  it.each([1, 2])(
    'seed %i: every accepted template gets each argument as one literal word, and no payload runs',
    (seed) => {
      const o = run({
        seed,
        n: 600,
        perTemplate: 8,
        compile: compileTemplate,
        expand: expandTemplate,
        work: temp(),
      });
      const show = o.problems.slice(0, 5).map((p) => ({ ...p, arg: p.arg?.toString('latin1') }));
      expect(show).toEqual([]);
      expect(o.crashed).toBe(0);
      // The grammar must exercise both sides: a generator that only makes refused templates proves nothing.
      expect(o.accepted).toBeGreaterThan(80);
      expect(o.refused).toBeGreaterThan(80);
      expect(o.runs).toBeGreaterThan(1200);
    },
  );
});

describe('templates sh would read differently are refused through the CLI before anything runs', () => {
  // Each runs `touch ran` first if poolrun ever starts it; the argument would create `pwned` if it ran as code.
  const templates = [
    'echo ${#HOME} "x\n} {}"',
    "echo 'x",
    'echo "x {}',
    'echo `x {}',
    'echo $(x {}',
    'echo $((1 + {}',
    'echo ${x:-{}',
    'cat <<EOF\n{}',
    'echo x # {}',
    'echo hi # no replacement string: the argument would be appended into this comment',
    'sh -c "gzip {}"',
    'echo $((1 + {}))',
    'eval echo {}',
    'cat <<EOF\nline\nEOF',
    'echo "$(case x in x) echo "{}";; esac)"',
  ];
  it.each(templates)('%j: exit 2, the line and column named, nothing ran', async (template) => {
    const dir = temp();
    const r = await poolrun([
      '--each',
      `touch ${dir}/ran; ${template}`,
      `$(touch ${dir}/pwned)`,
      `;touch ${dir}/pwned;#`,
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^poolrun: --each: (\{\} )?(the argument.*)?at (line \d+, )?column \d+/);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
    expect(readdirSync(dir)).toEqual([]);
  });

  it('after alias, no value: a later command name may expand to a comment or eval (each form of alias, each value)', async () => {
    const dir = temp();
    const aliases = [
      "alias x='echo #'",
      'alias x=eval',
      "\\alias x='echo #'",
      "command alias x='echo #'",
      "a''lias x=eval",
    ];
    const uses = ['\nx {}', '; x {}', '\necho "$(x {})"', '\nx -- {}'];
    const values = ['\ntouch pwned #', ';touch pwned', '$(touch pwned)'];
    for (const a of aliases)
      for (const u of uses) {
        const r = await poolrun(['-q', '--each', `touch ran; ${a}${u}`, ...values], { cwd: dir });
        expect([a, u, r.code]).toEqual([a, u, 2]);
        expect(r.stderr).toMatch(/comes after alias/);
      }
    expect(readdirSync(dir)).toEqual([]);
    // A value before the alias is read as before.
    const r = await poolrun(['-q', '--each', 'echo {}; alias x=y', 'a'], { cwd: dir });
    expect([r.code, r.stdout]).toEqual([0, 'a\n']);
  });

  it('a value cannot become the command: {.} of "eval.;touch P" would be eval', async () => {
    const dir = temp();
    for (const template of ['{.} {}', 'x=1 {.} {}', 'command {.} {}', 'echo hi;']) {
      const r = await poolrun(['-q', '--each', template, 'eval.;touch pwned'], { cwd: dir });
      expect(r.code, template).toBe(2);
      expect(r.stderr).toMatch(/at column \d+.*name of the command to run/);
    }
    // With a path before it, a value is a file to run, never a builtin.
    const r = await poolrun(['-q', '--each', '/bin/{.} {}', 'echo.;touch pwned'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('echo.;touch pwned\n');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a template that is read right runs, and its values stay data', async () => {
    const dir = temp();
    const r = await poolrun([
      '-q',
      '-w',
      '1',
      '--each',
      'cat <<EOF\nhead\nEOF\necho "$(case {} in *) printf %s {};; esac)" ${#HOME} {} # a comment',
      `$(touch ${dir}/pwned)`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`head\n$(touch ${dir}/pwned) 5 $(touch ${dir}/pwned)\n`);
    expect(readdirSync(dir)).toEqual([]);
  });
});
