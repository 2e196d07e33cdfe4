/**
 * The `--each` template reader against real /bin/sh (dash), differentially: templates from a small grammar of sh
 * constructs with `{}` at random places, hostile arguments, and for every template poolrun accepts, sh must receive
 * each argument as one literal word and no payload may run (see test/template-gen.mjs).
 */
import { describe, expect, it } from 'vitest';
import { compileTemplate, expandTemplate, type Template } from '../src/input/template.js';
import { useTempDirs } from './helpers.js';
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
      expect(o.runs).toBeGreaterThan(1500);
    },
  );
});
