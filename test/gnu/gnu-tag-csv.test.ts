/**
 * --tag with --tagstring, and an empty --tagstring, as GNU parallel 20221122 prints them (compared on the same
 * argv); --results F.csv / F.tsv (GNU's tables, which poolrun does not write) is exit 2 naming --results F.json.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { BIN, useTempDirs } from '../helpers.js';
import { runTool } from './run-tool.js';

const GNU = '/usr/bin/parallel';
const temp = useTempDirs();

describe.skipIf(!existsSync(GNU))('--tag and --tagstring together, against GNU parallel', () => {
  it.each([
    [['--tag', '--tagstring', '{}-{#}']],
    [['--tagstring', 'T{}', '--tag']],
    [['--tag', '--tagstring', '']],
    [['--tagstring', '']],
    [['--tagstring', '', '-N', '2']],
  ])('%j', async (opts) => {
    const dir = temp();
    const args = [...opts, 'echo', ':::', 'a', 'b c', 'd'];
    const [g, p] = await Promise.all([
      runTool(GNU, ['--will-cite', '-k', ...args], dir),
      runTool(process.execPath, [BIN, '-q', ...args], dir),
    ]);
    expect(p.stdout, p.stderr).toBe(g.stdout);
    expect(p.code).toBe(g.code);
  });
});

it('--results F.csv and F.tsv: exit 2 naming --results F.json, nothing run or written', async () => {
  for (const name of ['out.csv', 'out.TSV']) {
    const dir = temp();
    const r = await runTool(process.execPath, [BIN, '--results', name, 'echo', ':::', 'a'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no CSV\/TSV table; write --results F\.json/);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir)).toEqual([]);
  }
});
