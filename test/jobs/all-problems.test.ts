/**
 * Every problem of a job file is reported at once, one message each with its place — whatever else is wrong with
 * the same job or another: a duplicate id, an unknown `after`, a destination two jobs write are checked on jobs
 * that have other problems too (issue: a duplicate id was not reported when the first job with it had another).
 * Generated files mix the kinds of problem, in JSON and JSONL.
 */
import { describe, expect, it } from 'vitest';
// parse.ts needs the schema validator generated at build time: it is imported from dist/.
import { JobFileError } from '../../dist/errors.js';
import { parseJobText } from '../../dist/jobs/parse.js';
import { poolrun, rng, useTempDirs } from '../helpers.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const temp = useTempDirs();

type Kind =
  'badRun' | 'unknownKey' | 'dupId' | 'unknownAfter' | 'selfAfter' | 'dupKey' | 'badTimeout' | 'clash';

interface Expected {
  /** The job's line (one job per line). */
  line: number;
  path: string;
  message: string;
}

/** One job per line, each with a random set of problems; what each problem's message must say. */
function generate(seed: number, jsonl: boolean): { text: string; expected: Expected[] } {
  const r = rng(seed);
  const n = 6 + Math.floor(r() * 10);
  const lines: string[] = [];
  const expected: Expected[] = [];
  const ids: string[] = [];
  const firstLine = jsonl ? 1 : 2;
  let clashes = 0;
  for (let i = 0; i < n; i++) {
    const line = firstLine + i;
    const kinds = new Set<Kind>();
    for (const k of [
      'badRun',
      'unknownKey',
      'dupId',
      'unknownAfter',
      'selfAfter',
      'dupKey',
      'badTimeout',
      'clash',
    ] as Kind[])
      if (r() < 0.3) kinds.add(k);
    if (kinds.has('unknownAfter')) kinds.delete('selfAfter');
    // A copy job's destination is compared when its own fields are valid (it can be built).
    if (kinds.has('clash')) {
      kinds.delete('badRun');
      kinds.delete('unknownKey');
      kinds.delete('badTimeout');
    }
    if (i === 0) kinds.delete('dupId');
    const id = kinds.has('dupId') ? ids[Math.floor(r() * ids.length)]! : `j${i}`;
    ids.push(id);
    const p = `jobs[${i}]`;
    const fields: string[] = [`"id": ${JSON.stringify(id)}`];
    if (kinds.has('dupId')) expected.push({ line, path: `${p}.id`, message: `duplicate id "${id}"` });
    if (kinds.has('clash')) {
      fields.push(`"copy": {"from": "src${i}", "to": "out/shared"}`);
      if (clashes++ > 0)
        expected.push({ line, path: `${p}.copy.to`, message: 'writes the same destination as another job' });
    } else if (kinds.has('badRun')) {
      fields.push('"run": 5');
      expected.push({ line, path: `${p}.run`, message: 'got a number (5)' });
    } else fields.push('"run": "true"');
    if (kinds.has('unknownKey')) {
      fields.push('"timout": 3');
      expected.push({ line, path: `${p}.timout`, message: 'unknown key "timout"' });
    }
    if (kinds.has('unknownAfter')) {
      fields.push(`"after": "nope${i}"`);
      expected.push({ line, path: `${p}.after`, message: `unknown id "nope${i}"` });
    }
    if (kinds.has('selfAfter')) {
      fields.push(`"after": ${JSON.stringify(id)}`);
      expected.push({ line, path: `${p}.after`, message: 'cannot run after itself' });
    }
    if (kinds.has('dupKey')) {
      fields.push('"retries": 1', '"retries": 2');
      expected.push({ line, path: `${p}.retries`, message: 'duplicate key "retries"' });
    }
    if (kinds.has('badTimeout')) {
      fields.push('"timeout": "99999d"');
      expected.push({ line, path: `${p}.timeout`, message: 'expected a duration' });
    }
    lines.push(`{${fields.join(', ')}}`);
  }
  const text = jsonl ? lines.join('\n') + '\n' : `[\n${lines.join(',\n')}\n]\n`;
  return { text, expected };
}

function problemsOf(text: string, format: 'json' | 'jsonl'): string[] {
  try {
    parseJobText(text, { name: 'jobs', baseDir: '/tmp/x', format });
  } catch (e) {
    expect(e).toBeInstanceOf(JobFileError);
    return (e as JobFileError).problems.map((p) => `${p.where}: ${p.path ?? ''}: ${p.message}`);
  }
  return [];
}

describe.each(['json', 'jsonl'] as const)('every problem of a %s job file at once', (format) => {
  it.each(Array.from({ length: 40 }, (_, k) => k + 1))('generated file %i', (seed) => {
    const { text, expected } = generate(seed, format === 'jsonl');
    const got = problemsOf(text, format);
    for (const x of expected) {
      const match = got.filter(
        (g) => g.startsWith(`jobs:${x.line}:`) && g.includes(`: ${x.path}: `) && g.includes(x.message),
      );
      expect(match, `${JSON.stringify(x)} in\n${got.join('\n')}\n${text}`).toHaveLength(1);
    }
    expect(got.length, `${got.join('\n')}\n${text}`).toBe(expected.length);
  });
});

describe('the example that was missed', () => {
  it('a duplicate id is reported beside the first job’s own problem (CLI)', async () => {
    const dir = temp();
    const file = join(dir, 'm3.json');
    writeFileSync(file, '[{"id":"x","run":5},{"id":"x","run":"echo"}]');
    const r = await poolrun([file], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('m3.json:1:18: jobs[0].run: expected a command string');
    expect(r.stderr).toMatch(
      /m3\.json:1:27: jobs\[1\]\.id: duplicate id "x" \(first used by jobs\[0\] at \S*m3\.json:1:8\)/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
