#!/usr/bin/env node
/**
 * Fuzzes the `--each` template reader against real /bin/sh (dash), with the differential check of
 * test/input/template-gen.mjs at a larger scale: every hostile argument against every accepted template, many seeds.
 * Run by hand after `npm run build`:
 *
 *   node bench/fuzz-template.mjs [--seeds 20] [--n 2000] [--from 1] [--noise 0.3]
 *
 * Prints, per seed, how many templates were accepted and refused and how many sh runs were made, then every
 * problem found (template, argument, the command sh ran, what was wanted and what came out). Exits 1 if any.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileTemplate, expandTemplate } from '../dist/input/template/index.js';
import { differential } from '../test/template-gen.mjs';

const opt = (name, dflt) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? dflt : Number(process.argv[at + 1]);
};
const seeds = opt('seeds', 10);
const n = opt('n', 1000);
const from = opt('from', 1000);
const noisy = opt('noise', 0.3);

let total = 0;
const t0 = performance.now();
for (let seed = from; seed < from + seeds; seed++) {
  const work = mkdtempSync(join(tmpdir(), 'poolrun-fuzz-'));
  try {
    const o = differential({ seed, n, noisy, compile: compileTemplate, expand: expandTemplate, work });
    console.log(
      `seed ${seed}: ${o.accepted} accepted, ${o.refused} refused, ${o.crashed} crashed, ${o.runs} sh runs, ` +
        `${o.problems.length} problems`,
    );
    // One line per distinct template (its first problem), at most 15 per seed.
    const seen = new Set();
    const firsts = o.problems.filter((p) => !seen.has(p.template) && seen.add(p.template));
    for (const p of firsts.slice(0, 15)) {
      console.log(
        JSON.stringify({ ...p, arg: p.arg ? p.arg.toString('latin1') : undefined }, null, 1).replace(
          /\n\s*/g,
          ' ',
        ),
      );
    }
    total += o.problems.length;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
console.log(`${total} problems in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exit(total ? 1 : 0);
