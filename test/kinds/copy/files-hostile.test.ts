/**
 * Issue 13, item 5: files as a careful user expects. Results files keep an existing file's mode (a new one gets
 * 0666 & ~umask); copies drop set-user-ID and set-group-ID bits, as `cp` does without `-p` (files, files inside a
 * copied tree, folders); temp names are cut at a UTF-8 boundary by bytes, so a long name of multi-byte characters
 * still fits NAME_MAX (255 bytes).
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, poolrun, readJson, useTempDirs, writeJobs, type ResultsDoc } from '../../helpers.js';
import { tempBeside, writeFileAtomic } from '../../../src/util/atomic.js';

const temp = useTempDirs();
const NAME_MAX = 255;
/** Characters of 1, 2, 3 and 4 bytes in UTF-8 (the last one is 2 UTF-16 units). */
const CHARS = ['a', 'é', '€', '𝄞'];

/** Every mode 0..07777, or every `step`-th. */
function allModes(step = 1): number[] {
  const out: number[] = [];
  for (let m = 0; m <= 0o7777; m += step) out.push(m);
  return out;
}

/** Names of `n` copies of `ch`, for every n whose name fits NAME_MAX, spread so every length class is tried. */
function longNames(): string[] {
  const out: string[] = [];
  for (const ch of CHARS) {
    const w = Buffer.byteLength(ch);
    const most = Math.floor(NAME_MAX / w);
    for (const n of new Set([1, 2, 50, 66, 67, 68, 84, 85, 100, 101, 127, 128, 150, 200, most - 1, most]))
      if (n >= 1 && n <= most) out.push(ch.repeat(n));
    // Mixed widths, so a cut can fall inside any character.
    for (let k = 0; k < 4; k++) {
      let s = '';
      for (let i = 0; Buffer.byteLength(s + ch + CHARS[(i + k) % 4]!) <= NAME_MAX - k; i++)
        s += i % 2 ? ch : CHARS[(i + k) % 4]!;
      out.push(s);
    }
  }
  return out;
}

describe('temp names', () => {
  it('every temp name fits NAME_MAX and keeps whole UTF-8 characters of the name (generated names)', () => {
    const names = longNames();
    expect(names.length).toBeGreaterThan(50);
    for (const name of names) {
      const tmp = tempBeside(join('/some/folder', name));
      const base = tmp.slice('/some/folder/'.length);
      expect(Buffer.byteLength(base), name).toBeLessThanOrEqual(NAME_MAX);
      // No character was split: the name round-trips through UTF-8 and starts with a prefix of the original.
      expect(Buffer.from(base, 'utf8').toString('utf8')).toBe(base);
      expect(base).not.toContain('\ufffd');
      const kept = base.slice(1, base.lastIndexOf('.', base.lastIndexOf('.') - 1));
      expect(name.startsWith(kept), name).toBe(true);
      expect(kept.length).toBeGreaterThan(0);
    }
  });

  it('copies and --json to long multi-byte names succeed (the temp name is not over NAME_MAX)', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'src.txt'), 'data\n');
    const names = longNames();
    const jobs = names.map((n, i) => ({ id: `c${i}`, copy: { from: 'src.txt', to: `out/${n}` } }));
    const file = writeJobs(dir, jobs);
    const jsonName = '€'.repeat(85); // 255 bytes
    const json = join(dir, jsonName);
    const r = await poolrun(['-w', '2', '--json', json, file]);
    expect(r.code, r.stderr).toBe(0);
    const doc = readJson<ResultsDoc>(json);
    expect(doc.results.every((x) => x.status === 'succeeded')).toBe(true);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual([...new Set(names)].sort());
  });
});

describe('copies drop set-id bits', () => {
  it('files of modes 0..07777 (every 5th: every special-bit combination): same mode without setuid/setgid', async () => {
    const dir = temp();
    mkdirSync(join(dir, 'src'));
    const modes = allModes(5);
    for (const m of modes) {
      const f = join(dir, 'src', m.toString(8));
      writeFileSync(f, `mode ${m}\n`);
      chmodSync(f, m);
    }
    const jobs = modes.map((m) => ({ copy: { from: `src/${m.toString(8)}`, to: `dst/${m.toString(8)}` } }));
    const r = await poolrun(['-w', '2', writeJobs(dir, jobs)]);
    expect(r.code, r.stderr).toBe(0);
    for (const m of modes) {
      const got = statSync(join(dir, 'dst', m.toString(8))).mode & 0o7777;
      expect(got.toString(8), `source mode ${m.toString(8)}`).toBe((m & ~0o6000).toString(8));
    }
  });

  it('a tree: files and folders inside lose setuid/setgid, other bits kept', async () => {
    const dir = temp();
    const src = join(dir, 'tree');
    mkdirSync(src);
    const fileModes = allModes(7); // 586 modes, every special-bit combination
    const dirModes = [0o2755, 0o4755, 0o6775, 0o7777, 0o3770, 0o1777, 0o755, 0o2700];
    for (const m of fileModes) {
      writeFileSync(join(src, `f${m.toString(8)}`), 'x');
      chmodSync(join(src, `f${m.toString(8)}`), m);
    }
    for (const m of dirModes) {
      const d = join(src, `d${m.toString(8)}`);
      mkdirSync(d);
      writeFileSync(join(d, 'inner'), 'y');
      chmodSync(join(d, 'inner'), 0o6755);
      chmodSync(d, m);
    }
    chmodSync(src, 0o2775);
    const r = await poolrun([writeJobs(dir, [{ copy: { from: 'tree', to: 'copy' } }])]);
    expect(r.code, r.stderr).toBe(0);
    const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);
    expect(mode(join(dir, 'copy'))).toBe('775');
    for (const m of fileModes)
      expect(mode(join(dir, 'copy', `f${m.toString(8)}`)), m.toString(8)).toBe((m & ~0o6000).toString(8));
    for (const m of dirModes) {
      expect(mode(join(dir, 'copy', `d${m.toString(8)}`)), m.toString(8)).toBe((m & ~0o6000).toString(8));
      expect(mode(join(dir, 'copy', `d${m.toString(8)}`, 'inner'))).toBe('755');
    }
  });
});

describe('results files keep the mode of the file they replace', () => {
  it('writeFileAtomic over a file of modes 0..07777 (every 3rd) keeps that mode, less the set-id bits', async () => {
    const dir = temp();
    const modes = allModes(3);
    for (const m of modes) {
      const f = join(dir, `r${m.toString(8)}`);
      writeFileSync(f, 'old');
      chmodSync(f, m);
      await writeFileAtomic(f, 'new');
      expect((statSync(f).mode & 0o7777).toString(8), m.toString(8)).toBe((m & 0o1777).toString(8));
      expect(readFileSync(f, 'utf8')).toBe('new');
    }
    // Nothing left behind: one file per mode.
    expect(readdirSync(dir)).toHaveLength(modes.length);
  });

  it('--json, --junit and --report over existing 0600/0640/0604 files keep them; new ones get 0666 & ~umask', async () => {
    for (const [m, umask] of [
      [0o600, '022'],
      [0o640, '077'],
      [0o604, '002'],
    ] as const) {
      const dir = temp();
      const files = ['out.json', 'out.xml', 'out.html'].map((n) => join(dir, n));
      for (const f of files) {
        writeFileSync(f, 'old');
        chmodSync(f, m);
      }
      const fresh = ['new.json', 'new.xml', 'new.html'].map((n) => join(dir, n));
      const args = (o: string[]) => [
        '--json',
        o[0]!,
        '--junit',
        o[1]!,
        '--report',
        o[2]!,
        '--each',
        'true',
        'x',
      ];
      for (const set of [files, fresh]) {
        const r = await execa(
          '/bin/sh',
          ['-c', `umask ${umask} && exec "$@"`, 'sh', process.execPath, BIN, '-q', ...args(set)],
          {
            reject: false,
            env: { NO_COLOR: '1' },
          },
        );
        expect(r.exitCode, String(r.stderr)).toBe(0);
      }
      for (const f of files) {
        expect((statSync(f).mode & 0o7777).toString(8), f).toBe(m.toString(8));
        expect(readFileSync(f, 'utf8')).not.toBe('old');
      }
      const want = (0o666 & ~parseInt(umask, 8)).toString(8);
      for (const f of fresh) expect((statSync(f).mode & 0o7777).toString(8), f).toBe(want);
    }
  });

  it.skipIf(process.getuid?.() !== 0)(
    'root writing --json over another user’s 0640 file keeps its owner and mode',
    async () => {
      const dir = temp();
      const f = join(dir, 'theirs.json');
      writeFileSync(f, 'old');
      chownSync(f, 4321, 4322);
      chmodSync(f, 0o640);
      const r = await poolrun(['-q', '--json', f, '--each', 'true', 'x']);
      expect(r.code, r.stderr).toBe(0);
      const st = statSync(f);
      expect([st.uid, st.gid, (st.mode & 0o7777).toString(8)]).toEqual([4321, 4322, '640']);
      expect(readFileSync(f, 'utf8')).not.toBe('old');
    },
  );
});
