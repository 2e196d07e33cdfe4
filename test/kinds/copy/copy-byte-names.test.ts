/**
 * A Linux file name is bytes, not text. A tree copy must copy every name inside the tree as the bytes it is,
 * including names that are not UTF-8 (a file from an old Latin-1 system, a download's raw name): read as text,
 * `a\xe9b` became `a\ufffdb`, which does not exist, and two names that differ only in invalid bytes became one.
 * Generated: every single byte but `/` and NUL, invalid and truncated sequences, names that look like options,
 * nested folders and a symbolic link whose target is not UTF-8. The copy is compared byte for byte.
 */
import { describe, expect, it } from 'vitest';
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { GENERATED_TIMEOUT_MS, poolrun, useTempDirs, writeJobs } from '../../helpers.js';

const temp = useTempDirs();
const B = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** Names (bytes) a tree can hold: every byte 0x01..0xff but '/', and sequences that are not valid UTF-8. */
function names(): Buffer[] {
  const out: Buffer[] = [];
  for (let b = 1; b <= 0xff; b++) if (b !== 0x2f && b !== 0x2e) out.push(Buffer.from([b]));
  out.push(
    B('a', [0xe9], 'b'), // Latin-1 é
    B('a', [0xc3], 'b'), // a lead byte with no continuation
    B([0xc3, 0xa9]), // é, valid, beside its Latin-1 twin
    B([0xed, 0xa0, 0x80]), // a UTF-16 surrogate encoded as UTF-8
    B([0xc0, 0xaf]), // overlong '/'
    B([0xf4, 0x90, 0x80, 0x80]), // past U+10FFFF
    B('--x=', [0xff]),
    B('-rf', [0xfe]),
    B('line\n', [0x80], 'break'),
    B('..', [0xff]),
    Buffer.alloc(255, 0xff), // NAME_MAX bytes, none of them UTF-8
  );
  return out;
}

/** Every entry under `dir` as [relative path bytes (hex), kind, content or link target (hex)], sorted. */
function listing(dir: Buffer, rel: Buffer = Buffer.alloc(0)): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { encoding: 'buffer' })) {
    const p = Buffer.concat([dir, Buffer.from('/'), name]);
    const r = rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
    const st = lstatSync(p);
    if (st.isSymbolicLink())
      out.push(`${r.toString('hex')} link ${readlinkSync(p, { encoding: 'buffer' }).toString('hex')}`);
    else if (st.isDirectory()) {
      out.push(`${r.toString('hex')} dir ${(st.mode & 0o777).toString(8)}`);
      out.push(...listing(p, r));
    } else
      out.push(
        `${r.toString('hex')} file ${(st.mode & 0o777).toString(8)} ${readFileSync(p).toString('hex')}`,
      );
  }
  return out.sort();
}

describe('a tree copy keeps names that are not UTF-8, byte for byte', () => {
  it(
    'every byte, invalid sequences, nested folders and a link target of such names (generated)',
    async () => {
      const dir = temp();
      const src = Buffer.from(join(dir, 'src'));
      mkdirSync(src);
      const all = names();
      expect(all.length).toBeGreaterThan(260);
      // Each name as a file holding its own bytes, and again inside a folder whose name is not UTF-8.
      const sub = Buffer.concat([src, Buffer.from('/'), B('d', [0xe9, 0xff])]);
      mkdirSync(sub, { mode: 0o750 });
      for (const [i, n] of all.entries()) {
        writeFileSync(Buffer.concat([src, Buffer.from('/'), n]), n);
        if (i % 7 === 0) writeFileSync(Buffer.concat([sub, Buffer.from('/'), n]), Buffer.concat([n, n]));
      }
      symlinkSync(
        B('d', [0xe9, 0xff], '/', [0xfe]),
        Buffer.concat([src, Buffer.from('/'), B('link', [0x80])]),
      );
      const file = writeJobs(dir, [{ id: 'tree', copy: { from: join(dir, 'src'), to: join(dir, 'dst') } }]);
      const r = await poolrun([file], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const want = listing(src);
      expect(want.length).toBeGreaterThan(all.length + 30);
      expect(listing(Buffer.from(join(dir, 'dst')))).toEqual(want);
      // Nothing left beside it: the temp tree was renamed into place.
      expect(readdirSync(dir).sort()).toEqual(['dst', 'jobs.json', 'src']);
    },
    GENERATED_TIMEOUT_MS,
  );
});
