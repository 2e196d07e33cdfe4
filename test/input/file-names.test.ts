import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, poolrun, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

/** Names a terminal would act on, and how poolrun writes them (as it writes job ids). */
const NAMES: [string, string][] = [
  ['bad\nname', 'bad\\nname'],
  ['red\x1b[31mx', 'red\\x1b[31mx'],
  ['tab\there', 'tab\\there'],
  ['rtl\u202ex', 'rtl\\u202ex'],
];
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

describe('a file name with a control character is written escaped in every message', () => {
  it('a job file with a problem: its locations name it escaped, on one line', async () => {
    const dir = temp();
    for (const [raw, shown] of NAMES) {
      const forms: [string, string][] = [
        ['.json', '[{"run": "true", "bogus": 1}]'],
        ['.jsonl', '{"run": "true", "bogus": 1}\n'],
      ];
      for (const [ext, text] of forms) {
        const file = join(dir, raw + ext);
        writeFileSync(file, text);
        const r = await poolrun(['-q', file]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toBe(
          `poolrun: ${join(dir, shown + ext)}:1:${ext === '.json' ? 18 : 17}: jobs[0].bogus: ${r.stderr.split('jobs[0].bogus: ')[1]}`,
        );
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(r.stderr).not.toMatch(RAW);
      }
    }
  });

  it('a job file not found, a folder, and an output file that cannot be written', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'ok.json'), '["true"]');
    for (const [raw, shown] of NAMES) {
      mkdirSync(join(dir, `${raw}.d`));
      const cases: [string[], string][] = [
        [[join(dir, `${raw}.json`)], `job file not found: ${join(dir, shown)}.json`],
        [[join(dir, `${raw}.d`)], `job file is a directory: ${join(dir, shown)}.d`],
        [['--json', join(dir, `no${raw}`, 'o.json'), join(dir, 'ok.json')], `${join(dir, `no${shown}`)}`],
        [['--joblog', join(dir, `no${raw}`, 'l.tsv'), join(dir, 'ok.json')], `${join(dir, `no${shown}`)}`],
      ];
      for (const [args, want] of cases) {
        const r = await poolrun(['-q', ...args]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(want);
        expect(r.stderr).not.toMatch(RAW);
        expect(r.stderr.split('\n')[0]).toContain(want);
      }
    }
  }, 60_000);
});

describe('a job file whose name is not UTF-8', () => {
  /** poolrun run by a shell, which passes `printf` bytes as they are (Node would encode a string as UTF-8). */
  const viaShell = (cwd: string, printfName: string) =>
    execa('sh', ['-c', `exec "$0" "$1" -q "$(printf '${printfName}')"`, process.execPath, BIN], {
      cwd,
      reject: false,
      env: { NO_COLOR: '1' },
    });

  it('is found by its bytes, and named with \\xHH escapes in a message', async () => {
    const dir = temp();
    writeFileSync(Buffer.from(join(dir, 'j\xe9.txt'), 'latin1'), 'echo hi\n');
    writeFileSync(Buffer.from(join(dir, 'b\xe9\xff.json'), 'latin1'), '[{"run": "true", "bogus": 1}]');
    const ok = await viaShell(dir, 'j\\351.txt');
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(ok.stdout).toBe('hi');
    const bad = await viaShell(dir, 'b\\351\\377.json');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^poolrun: b\\xe9\\xff\.json:1:18: jobs\[0\]\.bogus: unknown key/);
    const missing = await viaShell(dir, 'n\\351.json');
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('job file not found: n\\xe9.json');
  });

  it('an input file of -a or :::: is found by its bytes too, and named escaped', async () => {
    const dir = temp();
    writeFileSync(Buffer.from(join(dir, 'a\xe9.txt'), 'latin1'), 'v1\n');
    const sh = (args: string) =>
      execa('sh', ['-c', `exec "$0" "$1" -q ${args}`, process.execPath, BIN], { cwd: dir, reject: false });
    const a = await sh(`-a "$(printf 'a\\351.txt')" echo`);
    expect(a.exitCode, String(a.stderr)).toBe(0);
    expect(a.stdout).toBe('v1');
    const missing = await sh(`-a "$(printf 'n\\351\\033.txt')" echo`);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('-a n\\xe9\\x1b.txt: cannot read it');
    const colons = await sh(`echo :::: "$(printf 'no\\nfile')"`);
    expect(colons.exitCode).toBe(2);
    expect(colons.stderr.split('\n')[0]).toBe('poolrun: :::: no\\nfile: cannot read it: no such file');
  });
});
