/**
 * A JSON string escape that is half of a UTF-16 pair (`"\ud800"`) is no character: a job file holding one is
 * exit 2 with its line and column (it ran as U+FFFD), in a JSON document, JSONL, defaults, nested call
 * arguments and keys alike; a whole pair is a character and runs.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, useTempDirs } from '../helpers.js';

const temp = useTempDirs();
const HALF = /holds half of a UTF-16 surrogate pair/;

describe('a lone surrogate escape in a job file', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['run, high half', 'j.json', '[{"run":"echo \\ud800"}]', /j\.json:1:9: jobs\[0\]\.run: /],
    ['run, low half', 'j.json', '[{"run":"echo \\udc00x"}]', /j\.json:1:9: jobs\[0\]\.run: /],
    ['reversed pair', 'j.json', '[{"run":"echo \\ude00\\ud83d"}]', /jobs\[0\]\.run: /],
    ['an id', 'j.json', '[{"id":"a\\ud800","run":"true"}]', /jobs\[0\]\.id: /],
    [
      'defaults.env',
      'j.json',
      '{"defaults":{"env":{"X":"\\udbff"}},"jobs":[{"run":"true"}]}',
      /defaults\.env\.X: /,
    ],
    ['a key of env', 'j.json', '[{"run":"true","env":{"K\\ud800":"v"}}]', /a key holds half/],
    [
      'call arguments, nested',
      'j.json',
      '[{"call":{"module":"./m.mjs","export":"f","args":[{"a":["\\udc00"]}]}}]',
      /jobs\[0\]\.call\.args\[0\]\.a\[0\]: /,
    ],
    ['JSONL', 'j.jsonl', '{"run":"true"}\n{"run":"echo \\ud800"}\n', /j\.jsonl:2:8: jobs\[1\]\.run: /],
  ];
  it.each(cases)('%s: exit 2, located, nothing ran', async (_what, name, text, where) => {
    const dir = temp();
    writeFileSync(join(dir, 'm.mjs'), 'export function f() { return 1; }\n');
    writeFileSync(join(dir, name), text);
    const r = await poolrun(['-q', name], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(HALF);
    expect(r.stderr).toMatch(where);
    expect(r.stdout).toBe('');
  });

  it('a whole pair is a character, and runs', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'j.json'), '[{"run":"printf %s \\ud83d\\ude00"}]');
    const r = await poolrun(['-q', 'j.json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('😀');
  });
});
