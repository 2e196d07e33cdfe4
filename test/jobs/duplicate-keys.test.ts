import { describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// parse.ts needs the schema validator generated at build time: it is imported from dist/.
import { parseJobText } from '../../dist/jobs/parse.js';
import { JobFileError } from '../../dist/errors.js';
import { poolrun, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

function problems(text: string, format?: 'json' | 'jsonl'): string[] {
  try {
    parseJobText(text, { name: 'f', baseDir: '/tmp', format });
  } catch (e) {
    expect(e).toBeInstanceOf(JobFileError);
    return (e as JobFileError).problems.map((p) => `${p.where}: ${p.path ?? ''}: ${p.message}`);
  }
  return [];
}

describe('duplicate keys in a job file', () => {
  it('are refused in every object, written plainly or with escapes, with both places', () => {
    expect(problems('[{"run":"echo a","run":"echo b"}]')).toEqual([
      'f:1:18: jobs[0].run: duplicate key "run" (first at f:1:3; JSON would silently keep only the last)',
    ]);
    expect(problems('{"jobs":["true"],\n"jobs":["false"]}')).toEqual([
      'f:2:1: jobs: duplicate key "jobs" (first at f:1:2; JSON would silently keep only the last)',
    ]);
    expect(problems('[{"run":"true","env":{"A":"1","\\u0041":"2"}}]')[0]).toMatch(
      /^f:1:31: jobs\[0\]\.env\.A: duplicate key "A" \(first at f:1:23;/,
    );
    expect(problems('{"run":"true","id":"x","id":"y"}\n', 'jsonl')[0]).toMatch(/^f:1:24: jobs\[0\]\.id: /);
    // A key repeated in a job's call arguments is ambiguous too.
    expect(problems('[{"call":{"module":"m.mjs","args":[[{"a":{"b":1,"b":2}}]]}}]')[0]).toMatch(
      /jobs\[0\]\.call\.args\[0\]\[0\]\.a\.b: duplicate key "b"/,
    );
  });

  it('the same key in different objects, and JSON text inside strings, are no duplicates', () => {
    const ok = [
      '[{"run":"echo \\"run\\": 1, \\"run\\": 2"},{"run":"true","env":{"run":"x","A":"{\\"k\\":1,\\"k\\":2}"}}]',
      '[{"run":"a:b","id":"1"},{"run":"c","id":"2"}]',
      '{"defaults":{"env":{"A":"1"}},"jobs":[{"run":"true","env":{"A":"2"}}]}',
    ];
    for (const text of ok) expect(problems(text), text).toEqual([]);
    expect(problems('{"run":"a\\"run\\":b","env":{"run":"1"}}\n{"run":"x"}\n', 'jsonl')).toEqual([]);
  });

  it('a big document (located without momoa) says where, every repeated key listed', () => {
    const jobs = Array.from({ length: 40_000 }, (_, i) => `{"run":"echo ${i}","id":"j${i}"}`);
    jobs[39_000] = '{"run":"a","id":"x","run":"b"}';
    jobs[20] = '{"run":"a","env":{"A":"1","B":"2","A":"3"}}';
    const text = `[\n${jobs.join(',\n')}\n]`;
    expect(text.length).toBeGreaterThan(1024 * 1024);
    expect(problems(text)).toEqual([
      'f:22:35: jobs[20].env.A: duplicate key "A" (first at f:22:19; JSON would silently keep only the last)',
      'f:39002:21: jobs[39000].run: duplicate key "run" (first at f:39002:2; JSON would silently keep only the last)',
    ]);
  });

  it('the CLI: exit 2, nothing runs, for a file, JSONL and stdin', async () => {
    const dir = temp();
    const cwd = temp();
    writeFileSync(join(dir, 'a.json'), '[{"run":"touch ran"},{"run":"touch x","run":"touch y"}]');
    writeFileSync(join(dir, 'a.jsonl'), '{"run":"touch ran"}\n{"run":"touch x","run":"touch y"}\n');
    for (const args of [[join(dir, 'a.json')], [join(dir, 'a.jsonl')]]) {
      const r = await poolrun(['-q', ...args], { cwd });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(
        /:1:39: jobs\[1\]\.run: duplicate key "run" \(first at .*:1:23;|:2:18: jobs\[1\]\.run:/,
      );
    }
    const r = await poolrun(['-q', '-'], { cwd, input: '{"run":"touch x","run":"touch y"}\n' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('<stdin>:1:18: jobs[0].run: duplicate key "run" (first at <stdin>:1:2;');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a --call argument (a job document too): exit 2 naming the argument, nothing called', async () => {
    const dir = temp();
    writeFileSync(
      join(dir, 'm.mjs'),
      "import { writeFileSync } from 'node:fs';\nexport function f(x) { writeFileSync('called', ''); return x; }\n",
    );
    const r = await poolrun(['-q', '--call', './m.mjs#f', '{"a": 1}', '{"a": 1, "b": {"c": 1, "c": 2}}'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--call: argument 2:1:24: duplicate key "c" (first at argument 2:1:16;');
    expect(readdirSync(dir)).toEqual(['m.mjs']);
    const ok = await poolrun(['-q', '--call', './m.mjs#f', '{"a": "\\"a\\": 1"}'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
  });
});
